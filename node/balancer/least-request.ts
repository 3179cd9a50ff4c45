/**
 * least_request: power of two choices. Draw two instances uniformly (with
 * replacement, as Envoy does) and take the one with the lower reported load.
 * With distinct loads sorted ascending, the k-th of n (0-based) is picked
 * with probability (2(n − k) − 1) / n²: the least loaded gets most traffic
 * but never all of it, so callers acting on the same stale loads do not
 * stampede one instance. Weights are ignored.
 */
import { shuffle } from '../membership/clock.js'
import type { Random } from '../membership/clock.js'
import { EMPTY_PICKER, randomIndex, randomOf } from './picker.js'
import type { Picker, PickResult, StrategyFactory } from './picker.js'
import type { InstanceRecord } from '../registry/types.js'
import { candidates, resultsOf } from './servable.js'
import type { Tier } from './servable.js'

/** P2C over `tiers[0]`, reading loads at pick time. */
export class LeastRequestPicker implements Picker {
  private readonly results: readonly PickResult[]

  /** `tiers` non-empty, each non-empty. */
  constructor (
    private readonly tiers: readonly Tier[],
    private readonly panic: boolean,
    private readonly loadOf: (r: InstanceRecord) => number,
    private readonly random: Random
  ) {
    this.results = resultsOf(tiers[0], panic)
  }

  pick (): PickResult {
    const n = this.results.length
    const a = this.results[randomIndex(this.random, n)]
    const b = this.results[randomIndex(this.random, n)]
    // a tie keeps `a`: a and b are i.i.d., so that is already a fair coin
    return this.loadOf(b.instance) < this.loadOf(a.instance) ? b : a
  }

  order (): { instances: InstanceRecord[], panic: boolean } {
    const first = this.pick().instance
    const instances = [first]
    for (const tier of this.tiers) {
      // shuffle, then a stable sort by load: equal loads come out in random order
      const byLoad = shuffle(tier.filter(r => r !== first), this.random)
        .map(r => ({ r, load: this.loadOf(r) }))
        .sort((x, y) => x.load - y.load)
      for (const { r } of byLoad) instances.push(r)
    }
    return { instances, panic: this.panic }
  }
}

/** Power of two choices over `opts.loadOf` (0 for all by default: uniform random). */
export const leastRequest: StrategyFactory = (instances, opts) => {
  const { tiers, panic } = candidates(instances, opts.panicThreshold)
  if (tiers.length === 0) return EMPTY_PICKER
  return new LeastRequestPicker(tiers, panic, opts.loadOf ?? (() => 0), randomOf(opts))
}
