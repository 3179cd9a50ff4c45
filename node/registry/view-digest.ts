import { createHash } from 'node:crypto'
import type { InstanceRecord } from './types.js'

/**
 * An order-independent digest of the view: the XOR of a hash of each live
 * record's key and version (owner, registration, update time, status).
 * Kept incrementally: adding and removing a record are the same XOR.
 * Two nodes' digests are equal exactly when their views are (up to hash
 * collisions), whatever order they learned things in.
 */
export class ViewDigest {
  private readonly acc = Buffer.alloc(16)

  /** Folds a record in (or out: XOR is its own inverse). */
  toggle (key: string, r: InstanceRecord): void {
    const h = createHash('md5').update(`${key}\n${r.ownerNode}\n${r.registeredAtMs}\n${r.updatedAtMs}\n${r.status}`).digest()
    for (let i = 0; i < 16; i++) this.acc[i] ^= h[i]
  }

  /** Hex digest. */
  hex (): string {
    return this.acc.toString('hex')
  }
}
