/** Builders for the balancer unit tests (pure: no sockets, no timers). */
import { seededRandom } from '../../../node/membership/clock.js'
import { createStrategyOptions } from '../../../node/balancer/picker.js'
import type { Picker, PickRequest, StrategyOptions } from '../../../node/balancer/picker.js'
import type { HealthStatus, InstanceRecord } from '../../../node/registry/types.js'
import { rec } from '../registry-fixtures.js'

/** An instance of service `svc`; everything not given defaulted (weight 100, zone z1, PASSING). */
export function inst (instanceId: string, over: Partial<InstanceRecord> = {}): InstanceRecord {
  return rec('svc', instanceId, over)
}

/** `n` instances i00, i01, … (ids sort in index order). */
export function fleet (n: number, over: (i: number) => Partial<InstanceRecord> = () => ({})): InstanceRecord[] {
  return Array.from({ length: n }, (_, i) => inst(`i${String(i).padStart(2, '0')}`, over(i)))
}

/** One instance per status, ids s0, s1, … in the order given. */
export function byStatus (statuses: HealthStatus[]): InstanceRecord[] {
  return statuses.map((status, i) => inst(`s${i}`, { status }))
}

/** Default options with a seeded Random, so every distribution test is reproducible. */
export function seeded (over: Partial<StrategyOptions> = {}, seed = 42): StrategyOptions {
  return createStrategyOptions({ random: seededRandom(seed), ...over })
}

/** Picks per instance id over `picks` picks; throws if a pick comes back empty. */
export function tally (picker: Picker, picks: number, req: PickRequest | ((i: number) => PickRequest) = {}): Map<string, number> {
  const counts = new Map<string, number>()
  for (let i = 0; i < picks; i++) {
    const r = picker.pick(typeof req === 'function' ? req(i) : req)
    if (r === undefined) throw new Error(`pick ${i} came back empty`)
    counts.set(r.instance.instanceId, (counts.get(r.instance.instanceId) ?? 0) + 1)
  }
  return counts
}

/** Ids of records, in order. */
export function ids (records: readonly InstanceRecord[]): string[] {
  return records.map(r => r.instanceId)
}
