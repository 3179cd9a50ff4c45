import type { InstanceRecord } from '../registry/types.js'
import { toInstanceMessage } from './convert.js'
import { loadProtos } from './protos.js'

/**
 * Wire bytes built ahead of time. A handler may answer with one; the
 * method's serializer (wrapped by `passThrough`) sends the bytes as they are.
 */
export class Encoded {
  private frame: Buffer | undefined

  constructor (readonly bytes: Buffer) {}

  /**
   * The bytes as one gRPC message (flag, length, bytes), built once: a
   * watch event shared by 1,000 streams is framed once, not per stream.
   */
  framed (): Buffer {
    this.frame ??= grpcFrame(this.bytes)
    return this.frame
  }
}

/** A gRPC length-prefixed message: no compression flag, 4-byte length, the bytes. */
export function grpcFrame (message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length)
  frame[0] = 0
  frame.writeUInt32BE(message.length, 1)
  message.copy(frame, 5)
  return frame
}

/** Wraps a grpc serializer so that `Encoded` answers skip protobuf encoding. */
export function passThrough<T> (serialize: (value: T) => Buffer): (value: T | Encoded) => Buffer {
  return value => value instanceof Encoded ? value.bytes : serialize(value)
}

// records are immutable: each one's framed bytes (field 1 of DiscoverResponse) are built once
const framed = new WeakMap<InstanceRecord, Buffer>()
let tokenCache: { token: Uint8Array, bytes: Buffer } | undefined

/**
 * A DiscoverResponse: `instances` (field 1, repeated), `resume_token`
 * (field 2), and `panic` (field 3) when set. Each instance is encoded once per record and reused by every
 * answer while the record is unchanged, so a read costs a concatenation.
 */
export function encodeDiscoverResponse (records: readonly InstanceRecord[], token: Uint8Array, panic: boolean): Encoded {
  const parts: Buffer[] = []
  for (const r of records) parts.push(framedInstance(r))
  if (tokenCache?.token !== token) tokenCache = { token, bytes: field(2, Buffer.from(token)) }
  parts.push(tokenCache.bytes)
  if (panic) parts.push(PANIC_TRUE)
  return new Encoded(Buffer.concat(parts))
}

// field 3 (panic), varint 1
const PANIC_TRUE = Buffer.from([3 << 3, 1])

/**
 * A PickResponse: `instance` is field 1 there too, so the framed bytes of
 * DiscoverResponse serve as they are; `panic` is field 2.
 */
export function encodePickResponse (record: InstanceRecord, panic: boolean): Encoded {
  const framed = framedInstance(record)
  return new Encoded(panic ? Buffer.concat([framed, PICK_PANIC_TRUE]) : framed)
}

// field 2 (panic of PickResponse), varint 1
const PICK_PANIC_TRUE = Buffer.from([2 << 3, 1])

/** An Instance as field 1 of its parent, encoded once per record (records are immutable). */
export function framedInstance (r: InstanceRecord): Buffer {
  let b = framed.get(r)
  if (b == null) {
    // the library's own serializer of a one-instance answer is exactly field 1 framed
    b = discoverSerializer()({ instances: [toInstanceMessage(r)] })
    framed.set(r, b)
  }
  return b
}

/** A length-delimited field `n` around `payload`. */
export function field (n: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(n << 3) | 2]), varint(payload.length), payload])
}

function varint (n: number): Buffer {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return Buffer.from(out)
}

let serializer: ((v: unknown) => Buffer) | undefined
function discoverSerializer (): (v: unknown) => Buffer {
  serializer ??= (loadProtos().grpcObject as any).grapevine.v1.Registry.service.Discover.responseSerialize
  return serializer!
}
