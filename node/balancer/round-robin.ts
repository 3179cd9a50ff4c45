/**
 * round_robin: exact rotation over the first tier, as grpc-js's
 * `RoundRobinPicker`. The counter is the picker's only state; weights are
 * ignored (use weighted_round_robin for them).
 */
import { EMPTY_PICKER, randomIndex, randomOf } from './picker.js'
import type { Picker, PickResult, StrategyFactory } from './picker.js'
import type { InstanceRecord } from '../registry/types.js'
import { candidates, resultsOf, rotate } from './servable.js'
import type { Tier } from './servable.js'

/** Rotates through `tiers[0]`; `order()` lists every tier, each rotated to the same position. */
export class RoundRobinPicker implements Picker {
  private readonly results: readonly PickResult[]
  private next: number

  /** `tiers` non-empty, each non-empty; `start` is the first index handed out. */
  constructor (private readonly tiers: readonly Tier[], private readonly panic: boolean, start: number) {
    this.results = resultsOf(tiers[0], panic)
    this.next = start % this.results.length
  }

  pick (): PickResult {
    const r = this.results[this.next]
    // a compare instead of `%`: the hot path of the cheapest strategy
    this.next = this.next + 1 === this.results.length ? 0 : this.next + 1
    return r
  }

  order (): { instances: InstanceRecord[], panic: boolean } {
    const start = this.next
    this.pick()
    const instances: InstanceRecord[] = []
    // no push(...list): a spread of a large service's instances overflows the stack
    for (const tier of this.tiers) for (const r of rotate(tier, start)) instances.push(r)
    return { instances, panic: this.panic }
  }
}

/**
 * Round robin. The start is random because a picker is rebuilt on every view
 * change: always starting at index 0 would overload the first instance.
 */
export const roundRobin: StrategyFactory = (instances, opts) => {
  const { tiers, panic } = candidates(instances, opts.panicThreshold)
  if (tiers.length === 0) return EMPTY_PICKER
  return new RoundRobinPicker(tiers, panic, randomIndex(randomOf(opts), tiers[0].length))
}
