import { isCatchUpToken } from '../registry/watch-hub.js'
import type { WatchEvent } from '../registry/watch-hub.js'
import type { InstanceRecord } from '../registry/types.js'
import { toInstanceMessage } from './convert.js'
import { Encoded, field, framedInstance } from './encoded.js'
import { loadProtos } from './protos.js'

/**
 * Watch events as wire bytes. One change goes to every watcher that wants
 * it; encoded per watcher, 1,000 watchers meant 1,000 protobuf encodings of
 * the same UPSERT. Here an UPSERT is built once per (record, token) from the
 * record's cached Instance bytes, and every watcher writes the same buffer.
 */

// WatchEvent: type = 1 (varint), instance = 2, resume_token = 3
const TYPE_UPSERT = Buffer.from([1 << 3, 1])
const INSTANCE_TAG = Buffer.from([(2 << 3) | 2])

// a dispatch gives a watcher the token before or after its batch: two slots per record
const upserts = new WeakMap<InstanceRecord, Array<{ token: Uint8Array, encoded: Encoded }>>()
const tokens = new WeakMap<Uint8Array, Buffer>()

/** The WatchEvent message of `ev`, for the Watch serializer (which lets Encoded through). */
export function encodeWatchEvent (ev: WatchEvent): Encoded {
  if (ev.type !== 'UPSERT') return new Encoded(watchSerializer()(toEventMessage(ev)))
  // a catch-up event is one watcher's: nothing to share, and its token is the client's to size
  if (isCatchUpToken(ev.token)) return upsert(ev.record, ev.token)
  let slots = upserts.get(ev.record)
  const hit = slots?.find(s => s.token === ev.token)
  if (hit != null) return hit.encoded
  const encoded = upsert(ev.record, ev.token)
  if (slots == null) upserts.set(ev.record, slots = [])
  if (slots.length === 2) slots.shift()
  slots.push({ token: ev.token, encoded })
  return encoded
}

// Instance as field 1 of Discover's answer: the same length and bytes, only the tag differs
function upsert (record: InstanceRecord, token: Uint8Array): Encoded {
  return new Encoded(Buffer.concat([TYPE_UPSERT, INSTANCE_TAG, framedInstance(record).subarray(1), tokenField(token)]))
}

/** The message object of an event, as the proto loader's serializer takes it. */
export function toEventMessage (ev: WatchEvent): unknown {
  switch (ev.type) {
    case 'UPSERT': return { type: 'UPSERT', instance: toInstanceMessage(ev.record), resume_token: ev.token }
    case 'DELETE': return { type: 'DELETE', instance: { service: ev.service, instance_id: ev.instanceId }, resume_token: ev.token }
    case 'SYNCED': return { type: 'SYNCED', resume_token: ev.token }
    case 'RESET': return { type: 'RESET', resume_token: ev.token }
  }
}

function tokenField (token: Uint8Array): Buffer {
  let b = tokens.get(token)
  if (b == null) {
    // proto3 leaves an empty bytes field out
    b = token.length === 0 ? Buffer.alloc(0) : field(3, Buffer.from(token))
    tokens.set(token, b)
  }
  return b
}

let serializer: ((v: unknown) => Buffer) | undefined
function watchSerializer (): (v: unknown) => Buffer {
  serializer ??= (loadProtos().grpcObject as any).grapevine.v1.Registry.service.Watch.responseSerialize
  return serializer!
}
