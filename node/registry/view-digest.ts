import type { InstanceRecord } from './types.js'

/**
 * An order-independent digest of the view: the XOR of a hash of each live
 * record's key and version (owner, registration, update time, status,
 * and whether its owner is DEAD here).
 * Kept incrementally: adding and removing a record are the same XOR.
 * Two nodes' digests are equal exactly when their views are (up to hash
 * collisions), whatever order they learned things in.
 *
 * The hash is four 32-bit MurmurHash3 lanes over the string's UTF-16 units,
 * in JS: node:crypto's md5 cost a receiver 14% of its CPU under a Register
 * load (a Hash object per record change); this one is not cryptographic,
 * which a digest of our own records does not need.
 */
export class ViewDigest {
  private readonly acc = new Uint32Array(4)

  /** Folds a record in (or out: XOR is its own inverse). */
  toggle (key: string, r: InstanceRecord): void {
    // ownerDead only when set: a CRITICAL record of a DEAD owner is not the same view as one of
    // an ALIVE owner (never eligible, even in panic); other records hash as before the flag
    hash128(`${key}\n${r.ownerNode}\n${r.registeredAtMs}\n${r.updatedAtMs}\n${r.status}${r.ownerDead === true ? '\ndead' : ''}`, this.acc)
  }

  /** Hex digest. */
  hex (): string {
    let s = ''
    for (const x of this.acc) s += x.toString(16).padStart(8, '0')
    return s
  }
}

const SEEDS = [0x9747b28c, 0x2c1b3c6d, 0x297a2d39, 0x6c078965]
const C1 = 0xcc9e2d51
const C2 = 0x1b873593

/** XORs four MurmurHash3 (x86, 32-bit) lanes of `s`, one per seed, into `into`; one pass over the string. */
export function hash128 (s: string, into: Uint32Array): void {
  let h0 = SEEDS[0]
  let h1 = SEEDS[1]
  let h2 = SEEDS[2]
  let h3 = SEEDS[3]
  const n = s.length
  let i = 0
  // two UTF-16 units make one 32-bit block; the block's mix is the same in every lane
  for (; i + 1 < n; i += 2) {
    const k = mix(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16))
    h0 ^= k; h0 = Math.imul((h0 << 13) | (h0 >>> 19), 5) + 0xe6546b64
    h1 ^= k; h1 = Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64
    h2 ^= k; h2 = Math.imul((h2 << 13) | (h2 >>> 19), 5) + 0xe6546b64
    h3 ^= k; h3 = Math.imul((h3 << 13) | (h3 >>> 19), 5) + 0xe6546b64
  }
  if (i < n) {
    const k = mix(s.charCodeAt(i))
    h0 ^= k; h1 ^= k; h2 ^= k; h3 ^= k
  }
  // the length in bytes: each lane is the standard MurmurHash3 of the UTF-16LE encoding
  into[0] ^= fmix(h0 ^ (n * 2))
  into[1] ^= fmix(h1 ^ (n * 2))
  into[2] ^= fmix(h2 ^ (n * 2))
  into[3] ^= fmix(h3 ^ (n * 2))
}

function mix (k: number): number {
  k = Math.imul(k, C1)
  k = (k << 15) | (k >>> 17)
  return Math.imul(k, C2)
}

function fmix (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}
