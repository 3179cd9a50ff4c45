/**
 * locality: keep traffic in the caller's zone while that zone is healthy
 * enough, round robin inside it; otherwise spill over to every servable
 * instance. A zone holds its traffic while servable/total among its
 * non-MAINTENANCE instances is at least `localityThreshold` (and one serves).
 * The spill is all-or-nothing, not Envoy's proportional spill: simpler to
 * reason about, at the cost of a step change in cross-zone traffic.
 */
import { EMPTY_PICKER, randomIndex, randomOf } from './picker.js'
import type { Picker, PickRequest, PickResult, StrategyFactory, StrategyOptions } from './picker.js'
import type { InstanceRecord } from '../registry/types.js'
import { RoundRobinPicker } from './round-robin.js'
import { candidates, servableShare } from './servable.js'

/** A round robin per healthy zone and one over every servable instance. */
export class LocalityPicker implements Picker {
  /** `zones`: zone name → its picker, for zones that hold their traffic. */
  constructor (private readonly zones: ReadonlyMap<string, RoundRobinPicker>, private readonly all: RoundRobinPicker) {}

  pick (req: PickRequest): PickResult {
    return this.pickerFor(req).pick()
  }

  /** The zone's instances first, then the other zones' (PASSING before WARNING in each part). */
  order (req: PickRequest): { instances: InstanceRecord[], panic: boolean } {
    const local = this.pickerFor(req)
    if (local === this.all) return this.all.order()
    const inZone = local.order().instances
    const others = this.all.order().instances.filter(r => r.zone !== req.clientZone)
    return { instances: inZone.concat(others), panic: false }
  }

  // an empty clientZone counts as none: proto3 cannot tell unset from ''
  private pickerFor (req: PickRequest): RoundRobinPicker {
    return (req.clientZone !== undefined && req.clientZone !== '' ? this.zones.get(req.clientZone) : undefined) ?? this.all
  }
}

/**
 * Zone-aware round robin. Zone affinity is decided before the PASSING/WARNING
 * preference: a healthy zone whose PASSING instances are gone serves from its
 * own WARNING instances rather than crossing zones. In panic every zone
 * spills: health no longer means anything to prefer a zone by.
 */
export const locality: StrategyFactory = (instances, opts) => {
  const { tiers, panic } = candidates(instances, opts.panicThreshold)
  if (tiers.length === 0) return EMPTY_PICKER
  const random = randomOf(opts)
  const all = new RoundRobinPicker(tiers, panic, randomIndex(random, tiers[0].length))
  return new LocalityPicker(panic ? new Map() : zonePickers(instances, opts), all)
}

/** A round robin for each zone that keeps its traffic. */
function zonePickers (instances: readonly InstanceRecord[], opts: StrategyOptions): Map<string, RoundRobinPicker> {
  const byZone = new Map<string, InstanceRecord[]>()
  for (const r of instances) {
    const list = byZone.get(r.zone)
    if (list === undefined) byZone.set(r.zone, [r])
    else list.push(r)
  }
  const random = randomOf(opts)
  const pickers = new Map<string, RoundRobinPicker>()
  for (const [zone, list] of byZone) {
    if (servableShare(list) < opts.localityThreshold) continue
    // threshold 0 in a candidates() call: a zone's own health never panics it
    const { tiers } = candidates(list, 0)
    if (tiers.length === 0) continue
    pickers.set(zone, new RoundRobinPicker(tiers, false, randomIndex(random, tiers[0].length)))
  }
  return pickers
}
