import { describe, expect, it } from 'vitest'
import { loadProtos } from '../../node/api/protos.js'
import { encodeWatchEvent, toEventMessage } from '../../node/api/watch-encoding.js'
import { DEFAULT_CHECK } from '../../node/health/check-spec.js'
import type { WatchEvent } from '../../node/registry/watch-hub.js'
import { encodeVector } from '../../node/registry/version-vector.js'
import { rec } from './registry-fixtures.js'

const watch = (loadProtos().grpcObject as any).grapevine.v1.Registry.service.Watch
const serialize = watch.responseSerialize as (v: unknown) => Buffer
const deserialize = watch.responseDeserialize as (b: Buffer) => any

describe('encodeWatchEvent', () => {
  const token = encodeVector([{ owner: 'A', epoch: 3, seq: 17, liveness: 'alive' }])
  const big = rec('web', 'x'.repeat(200), { tags: ['a', 'b'], metadata: { zone: 'eu', v: 'é' }, check: { ...DEFAULT_CHECK, kind: 'tcp' }, load: 0.25 })
  const events: WatchEvent[] = [
    { type: 'UPSERT', record: rec('web', 'a'), token },
    { type: 'UPSERT', record: big, token },
    { type: 'UPSERT', record: rec('web', 'b'), token: encodeVector([]) },
    { type: 'DELETE', service: 'web', instanceId: 'a', token },
    { type: 'SYNCED', token },
    { type: 'RESET', token: encodeVector([]) }
  ]

  it('gives the bytes the proto serializer gives, for every event type', () => {
    for (const ev of events) {
      const bytes = encodeWatchEvent(ev).bytes
      expect(bytes.equals(serialize(toEventMessage(ev))), ev.type).toBe(true)
      expect(deserialize(bytes).type).toBe(ev.type)
    }
  })

  it('encodes an UPSERT once per record and token, and tells the tokens apart', () => {
    const r = rec('web', 'c')
    const before = encodeVector([{ owner: 'A', epoch: 1, seq: 1, liveness: 'alive' }])
    const after = encodeVector([{ owner: 'A', epoch: 1, seq: 2, liveness: 'alive' }])
    const first = encodeWatchEvent({ type: 'UPSERT', record: r, token: after })
    expect(encodeWatchEvent({ type: 'UPSERT', record: r, token: after })).toBe(first)
    const other = encodeWatchEvent({ type: 'UPSERT', record: r, token: before })
    expect(other).not.toBe(first)
    expect(Buffer.from(deserialize(other.bytes).resume_token).equals(Buffer.from(before))).toBe(true)
    expect(Buffer.from(deserialize(first.bytes).resume_token).equals(Buffer.from(after))).toBe(true)
  })
})
