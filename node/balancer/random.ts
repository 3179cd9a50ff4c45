/**
 * random: uniform choice over the first tier, independent per pick. No
 * shared counter, so it stays fair however often pickers are rebuilt; the
 * price is a binomial spread (about ±1% per instance at 100k picks over 10).
 */
import { shuffle } from '../membership/clock.js'
import type { Random } from '../membership/clock.js'
import { EMPTY_PICKER, randomIndex, randomOf } from './picker.js'
import type { Picker, PickResult, StrategyFactory } from './picker.js'
import type { InstanceRecord } from '../registry/types.js'
import { candidates, resultsOf } from './servable.js'
import type { Tier } from './servable.js'

/** Uniform picks from `tiers[0]`; `order()` shuffles each tier. */
export class RandomPicker implements Picker {
  private readonly results: readonly PickResult[]

  /** `tiers` non-empty, each non-empty. */
  constructor (private readonly tiers: readonly Tier[], private readonly panic: boolean, private readonly random: Random) {
    this.results = resultsOf(tiers[0], panic)
  }

  pick (): PickResult {
    return this.results[randomIndex(this.random, this.results.length)]
  }

  order (): { instances: InstanceRecord[], panic: boolean } {
    const first = this.pick().instance
    const instances = [first]
    // no push(...list): a spread of a large service's instances overflows the stack
    for (const tier of this.tiers) for (const r of shuffle(tier.filter(r => r !== first), this.random)) instances.push(r)
    return { instances, panic: this.panic }
  }
}

/** Uniform random. */
export const uniformRandom: StrategyFactory = (instances, opts) => {
  const { tiers, panic } = candidates(instances, opts.panicThreshold)
  if (tiers.length === 0) return EMPTY_PICKER
  return new RandomPicker(tiers, panic, randomOf(opts))
}
