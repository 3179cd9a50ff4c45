/**
 * maglev: Google's Maglev hashing (Eisenbud et al., NSDI 2016; Envoy's
 * maglev). Each instance walks its own permutation of a prime-sized table
 * (offset and skip from two hashes of its id) and claims the next free slot,
 * in turns, until the table is full; a key reads slot hash(key) mod M. Picks
 * are O(1) instead of the ring's binary search, and shares are near-exact;
 * removing an instance moves slightly more than its 1/n of keys.
 */
import type { Random } from '../membership/clock.js'
import { EMPTY_PICKER, randomOf } from './picker.js'
import type { Picker, PickRequest, PickResult, StrategyFactory } from './picker.js'
import type { InstanceRecord } from '../registry/types.js'
import { hash32 } from './hash.js'
import { keyHash } from './ring-hash.js'
import { candidates, resultsOf, weightedTiers } from './servable.js'
import type { WeightedTier } from './servable.js'

/** Table size: prime, and ≫ 100 × instances for even shares (Envoy's default). */
export const MAGLEV_TABLE_SIZE = 65_537

/**
 * The lookup table of one tier: `table[slot]` is an index into `tier.members`.
 * Weighted as in Envoy: in turn t an instance claims a slot only while its
 * claims stay within t × weight / max weight.
 */
export function buildMaglevTable (tier: WeightedTier, size = MAGLEV_TABLE_SIZE): Int32Array {
  const n = tier.members.length
  // a loop, not Math.max(...weights): a spread of 130,000 arguments overflows the stack
  let maxWeight = 0
  for (const w of tier.weights) if (w > maxWeight) maxWeight = w
  const next = Float64Array.from(tier.members, r => hash32(`${r.instanceId}#offset`) % size)
  const skip = Float64Array.from(tier.members, r => (hash32(`${r.instanceId}#skip`) % (size - 1)) + 1)
  const claimed = new Float64Array(n)
  const table = new Int32Array(size).fill(-1)
  let filled = 0
  for (let turn = 1; filled < size; turn++) {
    for (let i = 0; i < n && filled < size; i++) {
      if (claimed[i] >= (turn * tier.weights[i]) / maxWeight) continue
      let slot = next[i]
      while (table[slot] !== -1) slot = (slot + skip[i]) % size
      table[slot] = i
      next[i] = (slot + skip[i]) % size
      claimed[i]++
      filled++
    }
  }
  return table
}

/** Table lookups for `tiers[0]`. */
export class MaglevPicker implements Picker {
  private readonly results: readonly PickResult[]
  private readonly tables: readonly Int32Array[]

  /** `tiers` non-empty. */
  constructor (private readonly tiers: readonly WeightedTier[], private readonly panic: boolean, private readonly random: Random) {
    this.results = resultsOf(tiers[0].members, panic)
    this.tables = tiers.map(t => buildMaglevTable(t))
  }

  pick (req: PickRequest): PickResult {
    const table = this.tables[0]
    return this.results[table[keyHash(req, this.random) % table.length]]
  }

  /** Each tier's instances in the order met scanning its table from the key's slot. */
  order (req: PickRequest): { instances: InstanceRecord[], panic: boolean } {
    const h = keyHash(req, this.random)
    const instances: InstanceRecord[] = []
    this.tiers.forEach((tier, t) => {
      const table = this.tables[t]
      const seen = new Uint8Array(tier.members.length)
      for (let j = 0, left = tier.members.length; j < table.length && left > 0; j++) {
        const owner = table[(h + j) % table.length]
        if (seen[owner] === 1) continue
        seen[owner] = 1
        left--
        instances.push(tier.members[owner])
      }
      // only with more instances than slots: the slotless ones go last
      tier.members.forEach((r, i) => { if (seen[i] === 0) instances.push(r) })
    })
    return { instances, panic: this.panic }
  }
}

/** Maglev on `req.hashKey` (a random key when absent). */
export const maglev: StrategyFactory = (instances, opts) => {
  const { tiers, panic } = candidates(instances, opts.panicThreshold)
  if (tiers.length === 0) return EMPTY_PICKER
  return new MaglevPicker(weightedTiers(tiers), panic, randomOf(opts))
}
