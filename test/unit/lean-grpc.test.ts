import { describe, expect, it } from 'vitest'
import { serviceClients } from '../../node/api/protos.js'
import { upsertInstanceId, watchEventType } from '../../scripts/bench/lean-grpc.js'

// The benchmarks' lean watch client reads an event's type and instance id off
// the wire; here against events encoded by the API's own serializer.
const encode = (ev: object): Buffer => (serviceClients().Registry as any).service.Watch.responseSerialize(ev)

const instance = {
  service: 'bench',
  instance_id: 'i-1234',
  address: '10.1.0.1',
  port: 8080,
  tags: ['a', 'i-9999'],
  metadata: { k: 'i-5555' },
  owner_node: '12D3KooWi-owner',
  registered_at_ms: 1_700_000_000_000,
  weight: 100
}

describe('lean gRPC wire reading', () => {
  it('reads the type and the instance id of an UPSERT, whatever else the instance carries', () => {
    const msg = encode({ type: 'UPSERT', instance, resume_token: Buffer.from('token') })
    expect(watchEventType(msg)).toBe('UPSERT')
    expect(upsertInstanceId(msg)).toBe('i-1234')
  })

  it('tells SYNCED and DELETE apart and gives no id for them', () => {
    const synced = encode({ type: 'SYNCED', resume_token: Buffer.from('t') })
    const deleted = encode({ type: 'DELETE', instance })
    expect(watchEventType(synced)).toBe('SYNCED')
    expect(upsertInstanceId(synced)).toBeUndefined()
    expect(watchEventType(deleted)).toBe('OTHER')
    expect(upsertInstanceId(deleted)).toBeUndefined()
  })

  it('gives no id for a cut or garbled message, without throwing', () => {
    const msg = encode({ type: 'UPSERT', instance })
    expect(upsertInstanceId(msg.subarray(0, 6))).toBeUndefined()
    expect(upsertInstanceId(Buffer.from([0x08, 0x01, 0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBeUndefined()
    expect(upsertInstanceId(Buffer.from([0x08, 0x01, 0x17]))).toBeUndefined()
  })
})
