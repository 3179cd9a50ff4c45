import type { InstanceRecord } from './types.js'

/**
 * An order-independent digest of the view: the XOR of a hash of each live
 * record's key and version (owner, registration, update time, status).
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
    hash128(`${key}\n${r.ownerNode}\n${r.registeredAtMs}\n${r.updatedAtMs}\n${r.status}`, this.acc)
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

/** XORs four MurmurHash3 (x86, 32-bit) lanes of `s`, one per seed, into `into`. */
export function hash128 (s: string, into: Uint32Array): void {
  for (let lane = 0; lane < 4; lane++) {
    let h = SEEDS[lane]
    let i = 0
    // two UTF-16 units make one 32-bit block
    for (; i + 1 < s.length; i += 2) {
      h = mixBlock(h, s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16))
      h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64
    }
    if (i < s.length) h ^= mixBlock(0, s.charCodeAt(i))
    // the length in bytes: each lane is the standard MurmurHash3 of the UTF-16LE encoding
    h ^= s.length * 2
    h ^= h >>> 16
    h = Math.imul(h, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
    into[lane] ^= h
  }
}

function mixBlock (h: number, k: number): number {
  k = Math.imul(k, C1)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, C2)
  return h ^ k
}
