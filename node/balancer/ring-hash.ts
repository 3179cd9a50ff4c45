/**
 * ring_hash: consistent hashing (Karger et al.; Envoy's ring_hash). Each
 * instance owns `weight` points on a 32-bit ring (100 at the default weight),
 * placed by hashing "<instanceId>#<i>"; a key goes to the first point at or
 * after its hash. A point depends only on its own instance, so removing one
 * of n instances moves only that instance's keys, about 1/n of them, and a
 * rebuilt picker over the same instances maps every key the same way.
 */
import type { Random } from '../membership/clock.js'
import { EMPTY_PICKER, randomOf } from './picker.js'
import type { Picker, PickRequest, PickResult, StrategyFactory } from './picker.js'
import type { InstanceRecord } from '../registry/types.js'
import { hash32 } from './hash.js'
import { candidates, resultsOf, weightedTiers } from './servable.js'
import type { WeightedTier } from './servable.js'

/**
 * Ring size cap. Past it every instance's points are scaled down alike, so
 * a rebuild stays a few milliseconds (100 instances at the maximum weight
 * 10,000 get 655 points each instead of 10,000). The price: past the cap,
 * adding or removing an instance rescales everyone, moving more than 1/n.
 */
export const MAX_RING_POINTS = 65_536

// owners are packed below the hash in one float64 so the ring sorts as a typed array
const OWNER_SPAN = 2 ** 21

/** A sorted ring: `hashes[k]` is a point, `owners[k]` the index of its instance in the tier. */
export interface Ring {
  readonly hashes: Uint32Array
  readonly owners: Int32Array
}

/** The ring of one tier; points per instance = round(weight × min(1, MAX_RING_POINTS / Σweight)), at least 1. */
export function buildRing (tier: WeightedTier): Ring {
  const total = tier.weights.reduce((a, b) => a + b, 0)
  const scale = Math.min(1, MAX_RING_POINTS / total)
  const counts = tier.weights.map(w => Math.max(1, Math.round(w * scale)))
  const packed = new Float64Array(counts.reduce((a, b) => a + b, 0))
  let k = 0
  tier.members.forEach((r, owner) => {
    for (let i = 0; i < counts[owner]; i++) packed[k++] = hash32(`${r.instanceId}#${i}`) * OWNER_SPAN + owner
  })
  packed.sort()
  const hashes = new Uint32Array(packed.length)
  const owners = new Int32Array(packed.length)
  for (let j = 0; j < packed.length; j++) {
    owners[j] = packed[j] % OWNER_SPAN
    hashes[j] = (packed[j] - owners[j]) / OWNER_SPAN
  }
  return { hashes, owners }
}

/** Index of the first point at or after `h`, wrapping to 0. */
export function ringIndex (hashes: Uint32Array, h: number): number {
  let lo = 0
  let hi = hashes.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (hashes[mid] < h) lo = mid + 1
    else hi = mid
  }
  return lo === hashes.length ? 0 : lo
}

/** The hash of the request's key, or a uniform random one when it has none ('' is none). */
export function keyHash (req: PickRequest, random: Random): number {
  const key = req.hashKey
  return key !== undefined && key !== '' ? hash32(key) : Math.floor(random.next() * 4294967296)
}

/** Consistent-hash picks from the ring of `tiers[0]`. */
export class RingHashPicker implements Picker {
  private readonly results: readonly PickResult[]
  private readonly rings: readonly Ring[]

  /** `tiers` non-empty. */
  constructor (private readonly tiers: readonly WeightedTier[], private readonly panic: boolean, private readonly random: Random) {
    this.results = resultsOf(tiers[0].members, panic)
    this.rings = tiers.map(buildRing)
  }

  pick (req: PickRequest): PickResult {
    const { hashes, owners } = this.rings[0]
    return this.results[owners[ringIndex(hashes, keyHash(req, this.random))]]
  }

  /** Each tier's instances in the order met walking its ring clockwise from the key. */
  order (req: PickRequest): { instances: InstanceRecord[], panic: boolean } {
    const h = keyHash(req, this.random)
    const instances: InstanceRecord[] = []
    this.tiers.forEach((tier, t) => {
      const { hashes, owners } = this.rings[t]
      const seen = new Uint8Array(tier.members.length)
      const start = ringIndex(hashes, h)
      for (let j = 0, left = tier.members.length; j < hashes.length && left > 0; j++) {
        const owner = owners[(start + j) % hashes.length]
        if (seen[owner] === 1) continue
        seen[owner] = 1
        left--
        instances.push(tier.members[owner])
      }
    })
    return { instances, panic: this.panic }
  }
}

/** Ring hash on `req.hashKey` (a random key when absent). */
export const ringHash: StrategyFactory = (instances, opts) => {
  const { tiers, panic } = candidates(instances, opts.panicThreshold)
  if (tiers.length === 0) return EMPTY_PICKER
  return new RingHashPicker(weightedTiers(tiers), panic, randomOf(opts))
}
