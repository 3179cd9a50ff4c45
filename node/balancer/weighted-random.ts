/**
 * weighted_random: independent picks with probability weight / total, by
 * Vose's alias method: O(n) to build, O(1) and one random number per pick.
 * Weight 0 never serves unless every weight is 0.
 */
import type { Random } from '../membership/clock.js'
import { EMPTY_PICKER, randomOf } from './picker.js'
import type { Picker, PickResult, StrategyFactory } from './picker.js'
import type { InstanceRecord } from '../registry/types.js'
import { candidates, resultsOf, weightedTiers } from './servable.js'
import type { WeightedTier } from './servable.js'

/** Vose's alias table: column i keeps i with probability `prob[i]`, else yields `alias[i]`. */
export interface AliasTable {
  readonly prob: Float64Array
  readonly alias: Int32Array
}

/** The alias table of positive `weights`. */
export function aliasTable (weights: readonly number[]): AliasTable {
  const n = weights.length
  const total = weights.reduce((a, b) => a + b, 0)
  const scaled = Float64Array.from(weights, w => (w * n) / total)
  const prob = new Float64Array(n).fill(1)
  const alias = Int32Array.from({ length: n }, (_, i) => i)
  const small: number[] = []
  const large: number[] = []
  for (let i = 0; i < n; i++) (scaled[i] < 1 ? small : large).push(i)
  while (small.length > 0 && large.length > 0) {
    const s = small.pop() as number
    const l = large.pop() as number
    prob[s] = scaled[s]
    alias[s] = l
    scaled[l] = scaled[l] + scaled[s] - 1
    ;(scaled[l] < 1 ? small : large).push(l)
  }
  // what is left is 1 up to rounding: keep prob 1
  return { prob, alias }
}

/** Weighted order without replacement (Efraimidis–Spirakis, exponential keys): heavier tends earlier. */
export function weightedShuffle (tier: WeightedTier, random: Random): InstanceRecord[] {
  const keyed = tier.members.map((r, i) => ({ r, key: -Math.log(1 - random.next()) / tier.weights[i] }))
  return keyed.sort((a, b) => a.key - b.key).map(k => k.r)
}

/** Alias-method picks from `tiers[0]`. */
export class WeightedRandomPicker implements Picker {
  private readonly results: readonly PickResult[]
  private readonly table: AliasTable

  /** `tiers` non-empty. */
  constructor (private readonly tiers: readonly WeightedTier[], private readonly panic: boolean, private readonly random: Random) {
    this.results = resultsOf(tiers[0].members, panic)
    this.table = aliasTable(tiers[0].weights)
  }

  pick (): PickResult {
    // one draw: the integer part picks the column, the fraction flips its coin
    const u = this.random.next() * this.results.length
    const i = Math.floor(u)
    return this.results[u - i < this.table.prob[i] ? i : this.table.alias[i]]
  }

  order (): { instances: InstanceRecord[], panic: boolean } {
    const first = this.pick().instance
    const instances = [first]
    for (const tier of this.tiers) {
      for (const r of weightedShuffle(tier, this.random)) if (r !== first) instances.push(r)
    }
    return { instances, panic: this.panic }
  }
}

/** Weighted random by alias table. */
export const weightedRandom: StrategyFactory = (instances, opts) => {
  const { tiers, panic } = candidates(instances, opts.panicThreshold)
  if (tiers.length === 0) return EMPTY_PICKER
  return new WeightedRandomPicker(weightedTiers(tiers), panic, randomOf(opts))
}
