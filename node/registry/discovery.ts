import type { DiscoverQuery } from '../api/validation.js'
import type { Registry } from './registry.js'
import { SERVED_STATUSES } from './types.js'
import type { InstanceRecord } from './types.js'

/**
 * Answers Discover from this node's view: filter, then rotate round robin
 * across calls. The per-service list is sorted once per view change and
 * reused until the next one, so a read costs a filter and a slice.
 */
export class Discovery {
  private readonly sorted = new Map<string, { version: number, list: InstanceRecord[] }>()
  private readonly cursor = new Map<string, number>()

  constructor (private readonly registry: Registry) {}

  /** Instances matching the query, rotated by one position per call. */
  discover (q: DiscoverQuery): InstanceRecord[] {
    const all = this.list(q.service)
    const matched: InstanceRecord[] = []
    for (const r of all) if (matches(r, q)) matched.push(r)
    if (matched.length === 0) return matched
    const n = this.cursor.get(q.service) ?? 0
    this.cursor.set(q.service, (n + 1) % 1_000_000_007)
    const start = n % matched.length
    const rotated = start === 0 ? matched : matched.slice(start).concat(matched.slice(0, start))
    return q.limit > 0 && q.limit < rotated.length ? rotated.slice(0, q.limit) : rotated
  }

  private list (service: string): InstanceRecord[] {
    const cached = this.sorted.get(service)
    if (cached?.version === this.registry.version) return cached.list
    const m = this.registry.service(service)
    const list = m == null ? [] : [...m.values()].sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0))
    this.sorted.set(service, { version: this.registry.version, list })
    return list
  }
}

/** Whether a record answers the query (tags all present, metadata equal, zone, health). */
export function matches (r: InstanceRecord, q: DiscoverQuery): boolean {
  if (!q.includeUnhealthy && !SERVED_STATUSES.has(r.status)) return false
  if (q.zone !== '' && r.zone !== q.zone) return false
  for (const t of q.tags) if (!r.tags.includes(t)) return false
  for (const k in q.metadata) if (r.metadata[k] !== q.metadata[k]) return false
  return true
}
