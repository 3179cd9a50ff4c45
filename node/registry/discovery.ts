import type { DiscoverQuery, PickQuery } from '../api/validation.js'
import type { PickerCache } from '../balancer/picker-cache.js'
import type { PickResult } from '../balancer/picker.js'
import type { Registry } from './registry.js'
import type { InstanceRecord } from './types.js'

/** A Discover answer: instances in the strategy's order, and whether the panic threshold was hit. */
export interface DiscoverAnswer {
  readonly instances: InstanceRecord[]
  readonly panic: boolean
}

/**
 * Answers Discover and Pick from this node's view, through a balancing
 * strategy's picker. Pickers are immutable snapshots per (service, filter,
 * strategy), rebuilt only when the view changed those records.
 */
export class Discovery {
  constructor (private readonly registry: Registry, private readonly pickers: PickerCache) {}

  /** Instances matching the query, in the strategy's order (served first, then, if asked, the rest). */
  discover (q: DiscoverQuery): DiscoverAnswer {
    const candidates = (): InstanceRecord[] => this.candidates(q.service, q.tags, q.metadata, q.zone)
    const picker = this.pickers.get(cacheKey(q.service, q.tags, q.metadata, q.zone), q.balance.strategy, this.registry.version, candidates)
    const ordered = picker.order({ hashKey: q.balance.hashKey, clientZone: q.balance.clientZone })
    let instances = ordered.instances
    if (q.includeUnhealthy) {
      const listed = new Set(instances)
      const rest = candidates().filter(r => !listed.has(r))
      if (rest.length > 0) instances = instances.concat(rest)
    }
    if (q.limit > 0 && q.limit < instances.length) instances = instances.slice(0, q.limit)
    return { instances, panic: ordered.panic }
  }

  /** One instance for one call, counted in the balancer stats; undefined when none can serve. */
  pick (q: PickQuery): PickResult | undefined {
    const picker = this.pickers.get(cacheKey(q.service, q.tags, q.metadata, ''), q.balance.strategy, this.registry.version,
      () => this.candidates(q.service, q.tags, q.metadata, ''))
    const result = picker.pick({ hashKey: q.balance.hashKey, clientZone: q.balance.clientZone })
    if (result != null) this.pickers.recordPick(q.service, result.instance.instanceId)
    return result
  }

  private candidates (service: string, tags: readonly string[], metadata: Readonly<Record<string, string>>, zone: string): InstanceRecord[] {
    const m = this.registry.service(service)
    if (m == null) return []
    const out: InstanceRecord[] = []
    for (const r of m.values()) if (matches(r, tags, metadata, zone)) out.push(r)
    return out
  }
}

/** Whether a record carries every tag, equal metadata, and the zone (when one is asked). */
export function matches (r: InstanceRecord, tags: readonly string[], metadata: Readonly<Record<string, string>>, zone: string): boolean {
  if (zone !== '' && r.zone !== zone) return false
  for (const t of tags) if (!r.tags.includes(t)) return false
  for (const k in metadata) if (r.metadata[k] !== metadata[k]) return false
  return true
}

// one picker per distinct filter: its instances (and a round robin's rotation) are the filter's
function cacheKey (service: string, tags: readonly string[], metadata: Readonly<Record<string, string>>, zone: string): string {
  if (tags.length === 0 && zone === '' && Object.keys(metadata).length === 0) return service
  // tags as JSON: joined by a separator, ['a', 'b'] and ['a,b'] shared a picker
  return `${service}\u0000${JSON.stringify([...tags].sort())}\u0000${JSON.stringify(Object.entries(metadata).sort())}\u0000${zone}`
}
