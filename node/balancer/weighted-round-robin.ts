/**
 * weighted_round_robin: nginx's smooth weighted round robin. Each pick adds
 * every weight to its instance's score, takes the highest score and takes the
 * total weight off it, so weights {5, 1, 1} give a a b a c a a: exact shares
 * over every period of `total` picks, with heavy instances interleaved rather
 * than picked in bursts. Weight 0 never serves unless every weight is 0.
 */
import { EMPTY_PICKER, randomIndex, randomOf } from './picker.js'
import type { Picker, PickResult, StrategyFactory } from './picker.js'
import type { InstanceRecord } from '../registry/types.js'
import { candidates, resultsOf, weightedTiers } from './servable.js'
import type { WeightedTier } from './servable.js'

/** Upper bound of the random warm-up at build, in picks. */
const MAX_WARM_UP_PICKS = 100

/** Smooth WRR over `tiers[0]`; the scores are the picker's only state. */
export class SmoothWeightedPicker implements Picker {
  private readonly results: readonly PickResult[]
  private readonly weights: Float64Array
  private readonly scores: Float64Array
  private readonly total: number

  /** `tiers` non-empty; `warmUp` picks are made and discarded at build. */
  constructor (private readonly tiers: readonly WeightedTier[], private readonly panic: boolean, warmUp: number) {
    this.results = resultsOf(tiers[0].members, panic)
    this.weights = Float64Array.from(tiers[0].weights)
    this.scores = new Float64Array(this.weights.length)
    this.total = this.weights.reduce((a, b) => a + b, 0)
    for (let i = 0; i < warmUp; i++) this.step()
  }

  pick (): PickResult {
    return this.results[this.step()]
  }

  order (): { instances: InstanceRecord[], panic: boolean } {
    const first = this.step()
    const { members } = this.tiers[0]
    // the rest of the first tier in the order their scores would next come up
    const rest = members.map((_, i) => i).filter(i => i !== first)
      .sort((a, b) => (this.scores[b] + this.weights[b]) - (this.scores[a] + this.weights[a]) || a - b)
    const instances = [members[first], ...rest.map(i => members[i])]
    for (const tier of this.tiers.slice(1)) {
      const idx = tier.members.map((_, i) => i).sort((a, b) => tier.weights[b] - tier.weights[a] || a - b)
      for (const i of idx) instances.push(tier.members[i])
    }
    return { instances, panic: this.panic }
  }

  /** One round of the algorithm; the index picked. Allocation-free. */
  private step (): number {
    const { scores, weights } = this
    let best = 0
    let bestScore = -Infinity
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i] + weights[i]
      scores[i] = s
      if (s > bestScore) { best = i; bestScore = s }
    }
    scores[best] -= this.total
    return best
  }
}

/**
 * Smooth weighted round robin. A random warm-up (Envoy does the same for its
 * EDF scheduler) keeps nodes that rebuild at the same view change from all
 * sending their first picks to the heaviest instance.
 */
export const weightedRoundRobin: StrategyFactory = (instances, opts) => {
  const { tiers, panic } = candidates(instances, opts.panicThreshold)
  if (tiers.length === 0) return EMPTY_PICKER
  const weighted = weightedTiers(tiers)
  const warmUp = randomIndex(randomOf(opts), Math.min(weighted[0].members.length, MAX_WARM_UP_PICKS))
  return new SmoothWeightedPicker(weighted, panic, warmUp)
}
