/**
 * Pickers per (service, strategy), rebuilt only when the registry's view
 * version moved and the service's records actually changed; and the picks
 * each instance got, for stats. Reads never rebuild on the hot path.
 */
import type { InstanceRecord } from '../registry/types.js'
import type { Picker, StrategyOptions } from './picker.js'
import { buildPicker } from './registry.js'

/** The pickers of one filter, by strategy; `used`: asked for since eviction last passed it. */
interface Filter {
  readonly strategies: Map<string, Entry>
  used: boolean
}

interface Entry {
  version: number
  /** the records the picker was built from, in the order given */
  source: readonly InstanceRecord[]
  picker: Picker
}

/** Per-instance pick counts of one service. */
export interface PickStat {
  instance_id: string
  picks: number
}

/**
 * Filters (service, tags, metadata, zone) whose pickers are kept. Each
 * distinct filter a client sends is a key, so without a bound a client
 * cycling through filters or unknown service names grew the node's memory
 * without end. Past it one goes, by second chance (CLOCK): the oldest
 * not asked for since eviction last passed it, so the filters in steady use
 * stay while a client's one-off filters cycle through (a later query of an
 * evicted one rebuilds its picker, one scan of the service). A hit costs a
 * flag, not a reordering of the map.
 */
export const MAX_CACHED_FILTERS = 4096

/** Cached immutable pickers and pick counters; one per node. */
export class PickerCache {
  private readonly pickers = new Map<string, Filter>()
  private readonly picks = new Map<string, Map<string, number>>()

  constructor (private readonly opts: StrategyOptions, private readonly maxFilters = MAX_CACHED_FILTERS) {}

  /** How many filters have pickers cached (at most `maxFilters`). */
  get size (): number {
    return this.pickers.size
  }

  /**
   * The picker of `filter` (a service, or a service with a query's tags,
   * metadata and zone: discovery.ts) under `strategy` at view `version`. `instances`
   * is called only when the version changed. The picker is kept (with its
   * rotation) when the records are the same objects as last time: records
   * are immutable, and the view version moves on every service's change.
   * Throws InvalidArgumentError for an unknown strategy.
   */
  get (filter: string, strategy: string, version: number, instances: () => readonly InstanceRecord[]): Picker {
    let cached = this.pickers.get(filter)
    if (cached === undefined) {
      if (this.pickers.size >= this.maxFilters) this.evictOne()
      cached = { strategies: new Map(), used: false }
      this.pickers.set(filter, cached)
    } else {
      cached.used = true
    }
    const byStrategy = cached.strategies
    const entry = byStrategy.get(strategy)
    if (entry?.version === version) return entry.picker
    const source = [...instances()]
    if (entry !== undefined && sameRecords(entry.source, source)) {
      entry.version = version
      return entry.picker
    }
    const picker = buildPicker(strategy, source, this.opts)
    byStrategy.set(strategy, { version, source, picker })
    return picker
  }

  // A Map iterates in insertion order: the oldest first. A used one is moved to the end with its flag
  // cleared; at most one pass over the map, after which the oldest is unused.
  private evictOne (): void {
    for (const [filter, f] of this.pickers) {
      this.pickers.delete(filter)
      if (!f.used) return
      f.used = false
      this.pickers.set(filter, f)
    }
  }

  /** Counts one pick of `instanceId` in `service`. */
  recordPick (service: string, instanceId: string): void {
    let counts = this.picks.get(service)
    if (counts === undefined) {
      counts = new Map()
      this.picks.set(service, counts)
    }
    counts.set(instanceId, (counts.get(instanceId) ?? 0) + 1)
  }

  /** Picks per instance of `service` since start, by instance id; empty when none. */
  statsOf (service: string): PickStat[] {
    const counts = this.picks.get(service)
    if (counts === undefined) return []
    return [...counts].map(([id, picks]) => ({ instance_id: id, picks }))
      .sort((a, b) => (a.instance_id < b.instance_id ? -1 : a.instance_id > b.instance_id ? 1 : 0))
  }
}

function sameRecords (a: readonly InstanceRecord[], b: readonly InstanceRecord[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
