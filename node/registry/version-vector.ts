import { InvalidArgumentError } from '../errors.js'
import type { OwnerLiveness, VectorEntry } from './types.js'
import { MAX_OWNER_ID_CHARS, MAX_OWNERS } from './limits.js'

// Liveness travels as a small number so tokens stay short.
const LIVENESS: readonly OwnerLiveness[] = ['alive', 'dead', 'gone']
const MAX_ENTRIES = MAX_OWNERS

/**
 * Encodes a version vector as an opaque token: UTF-8 JSON
 * `{"v":1,"o":[[owner,epoch,seq,liveness],...]}`, sorted by owner so equal
 * vectors give equal bytes.
 */
export function encodeVector (entries: Iterable<VectorEntry>): Uint8Array {
  const rows = [...entries].sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0))
    .map(e => [e.owner, e.epoch, e.seq, LIVENESS.indexOf(e.liveness)])
  return Buffer.from(JSON.stringify({ v: 1, o: rows }))
}

/** Decodes a token from any node; throws InvalidArgumentError naming `field`. */
export function decodeVector (bytes: Uint8Array, field = 'resume_token'): VectorEntry[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (err) {
    throw new InvalidArgumentError(field, 'not a Grapevine token', { cause: err })
  }
  const obj = parsed as { v?: unknown, o?: unknown }
  if (obj == null || typeof obj !== 'object' || obj.v !== 1 || !Array.isArray(obj.o)) {
    throw new InvalidArgumentError(field, 'not a version 1 Grapevine token')
  }
  if (obj.o.length > MAX_ENTRIES) throw new InvalidArgumentError(field, `more than ${MAX_ENTRIES} owners`)
  return obj.o.map((row: unknown, i: number) => {
    if (!Array.isArray(row) || row.length !== 4) throw new InvalidArgumentError(field, `entry ${i} is malformed`)
    const [owner, epoch, seq, l] = row as unknown[]
    if (typeof owner !== 'string' || owner.length === 0 || owner.length > MAX_OWNER_ID_CHARS || !isCount(epoch) || !isCount(seq) ||
      typeof l !== 'number' || LIVENESS[l] === undefined) {
      throw new InvalidArgumentError(field, `entry ${i} is malformed`)
    }
    return { owner, epoch, seq, liveness: LIVENESS[l] }
  })
}

function isCount (v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}
