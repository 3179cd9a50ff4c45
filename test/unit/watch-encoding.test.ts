import { describe, expect, it } from 'vitest'
import { loadProtos } from '../../node/api/protos.js'
import { encodeWatchEvent, toEventMessage } from '../../node/api/watch-encoding.js'
import { DEFAULT_CHECK } from '../../node/health/check-spec.js'
import { isCatchUpToken, WatchHub } from '../../node/registry/watch-hub.js'
import type { WatchEvent } from '../../node/registry/watch-hub.js'
import { encodeVector } from '../../node/registry/version-vector.js'
import { batch, clockedRegistry, put, rec, silentLogger } from './registry-fixtures.js'

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

  it('keeps no encoding of a resume\'s catch-up event: its token is a client\'s, and one watcher\'s', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('web', 'a', { ownerNode: 'A' }))))
    const hub = new WatchHub({ registry: reg, logger: silentLogger, requestCatchUp: () => {} }, { queueMax: 100, catchUpMs: 1000 })
    const seen: WatchEvent[] = []
    // a token that knows nothing of A: A's record comes as a catch-up UPSERT carrying that token
    hub.open({ service: '', tags: [] }, [{ owner: 'Z', epoch: 1, seq: 0, liveness: 'alive' }], { write: ev => { seen.push(ev); return true }, onDrain: () => {}, fail: () => {} })
    const upsert = seen.find(e => e.type === 'UPSERT')
    expect(upsert).toBeDefined()
    expect(isCatchUpToken(upsert!.token)).toBe(true)
    const once = encodeWatchEvent(upsert!)
    expect(once.bytes.equals(serialize(toEventMessage(upsert!)))).toBe(true)
    expect(encodeWatchEvent(upsert!)).not.toBe(once)
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
