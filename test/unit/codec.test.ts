import { describe, it, expect } from 'vitest'
import { ProtocolError } from '../../node/errors.js'
import { decodeBatch, encodeBatch, parseRecord, parseSyncRequest, parseSyncResponse } from '../../node/gossip/codec.js'
import { batch, clockedRegistry, del, put, rec } from './registry-fixtures.js'

type Json = Record<string, any>

const good = batch('A', 3, put(4, rec('pay', 'p1', { tags: ['blue'], metadata: { region: 'eu' } })), del(5, 'pay/p2'))

/** A fresh, valid wire batch as plain JSON, to break one field at a time. */
function wire (): Json {
  return JSON.parse(Buffer.from(encodeBatch(good)).toString())
}

const bytes = (v: unknown): Uint8Array => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))

describe('encodeBatch / decodeBatch', () => {
  it('round-trips', () => {
    expect(decodeBatch(encodeBatch(good))).toEqual(good)
  })

  it('drops unknown fields', () => {
    const w = wire()
    w.extra = 1
    w.ops[0].junk = true
    w.ops[0].record.junk = 'x'
    expect(decodeBatch(bytes(w))).toEqual(good)
  })

  it('accepts a batch of tombstones with an absent record', () => {
    const w = wire()
    delete w.ops[1].record
    expect(decodeBatch(bytes(w)).ops[1]).toEqual({ seq: 5, key: 'pay/p2', record: null })
  })
})

describe('decodeBatch rejects garbage with ProtocolError and changes nothing', () => {
  const cases: Array<[string, (w: Json) => unknown]> = [
    ['not JSON', () => '{"v":1,'],
    ['empty bytes', () => ''],
    ['JSON null', () => null],
    ['a JSON list', () => [1, 2]],
    ['wrong version', w => ({ ...w, v: 2 })],
    ['missing version', w => { delete w.v; return w }],
    ['missing owner', w => { delete w.owner; return w }],
    ['empty owner', w => ({ ...w, owner: '' })],
    ['owner not a string', w => ({ ...w, owner: 42 })],
    ['negative epoch', w => ({ ...w, epoch: -1 })],
    ['fractional epoch', w => ({ ...w, epoch: 1.5 })],
    ['epoch as string', w => ({ ...w, epoch: '3' })],
    ['missing ops', w => { delete w.ops; return w }],
    ['ops not a list', w => ({ ...w, ops: {} })],
    ['op not an object', w => { w.ops[0] = 'op'; return w }],
    ['non-consecutive seqs', w => { w.ops[1].seq = 7; return w }],
    ['descending seqs', w => { w.ops[1].seq = 3; return w }],
    ['repeated seq', w => { w.ops[1].seq = 4; return w }],
    ['negative seq', w => { w.ops[0].seq = -1; w.ops[1].seq = 0; return w }],
    ['missing seq', w => { delete w.ops[0].seq; return w }],
    ['key too short', w => { w.ops[1].key = 'ab'; return w }],
    ['missing key', w => { delete w.ops[1].key; return w }],
    ['key not matching the record', w => { w.ops[0].key = 'pay/p9'; return w }],
    ['key of another service', w => { w.ops[0].key = 'cart/p1'; return w }],
    ['record not an object', w => { w.ops[0].record = 'r'; return w }],
    ['record a list', w => { w.ops[0].record = []; return w }],
    ['bad status', w => { w.ops[0].record.status = 'HEALTHY'; return w }],
    ['lower-case status', w => { w.ops[0].record.status = 'passing'; return w }],
    ['negative port', w => { w.ops[0].record.port = -80; return w }],
    ['negative weight', w => { w.ops[0].record.weight = -1; return w }],
    ['negative registeredAtMs', w => { w.ops[0].record.registeredAtMs = -5; return w }],
    ['unsafe updatedAtMs', w => { w.ops[0].record.updatedAtMs = 2 ** 60; return w }],
    ['ttlMs as string', w => { w.ops[0].record.ttlMs = '30000'; return w }],
    ['missing address', w => { delete w.ops[0].record.address; return w }],
    ['empty address', w => { w.ops[0].record.address = ''; return w }],
    ['missing ownerNode', w => { delete w.ops[0].record.ownerNode; return w }],
    ['missing zone', w => { delete w.ops[0].record.zone; return w }],
    ['missing tags', w => { delete w.ops[0].record.tags; return w }],
    ['empty tag', w => { w.ops[0].record.tags = ['']; return w }],
    ['tag not a string', w => { w.ops[0].record.tags = [1]; return w }],
    ['metadata a list', w => { w.ops[0].record.metadata = ['a']; return w }],
    ['metadata value not a string', w => { w.ops[0].record.metadata = { a: 1 }; return w }],
    ['oversized string', w => { w.ops[0].record.version = 'v'.repeat(4097); return w }],
    ['a version over 256 bytes (the API\'s limit)', w => { w.ops[0].record.version = 'é'.repeat(129); return w }],
    ['record of another owner than the batch\'s', w => { w.ops[0].record.ownerNode = 'B'; return w }],
    ['epoch 0', w => { w.epoch = 0; return w }],
    ['port 0', w => { w.ops[0].record.port = 0; return w }],
    ['weight over 10000', w => { w.ops[0].record.weight = 10_001; return w }],
    ['an upper-case service', w => { w.ops[0].record.service = 'Pay'; w.ops[0].key = 'Pay/p1'; return w }],
    ['an owner id over 128 characters', w => { w.owner = 'o'.repeat(129); return w }]
  ]

  it.each(cases)('%s', (_name, mutate) => {
    const { reg } = clockedRegistry()
    expect(() => reg.applyBatch(decodeBatch(bytes(mutate(wire()))))).toThrow(ProtocolError)
    expect(reg.owners.size).toBe(0)
    expect(reg.size).toBe(0)
    expect(reg.vectorVersion).toBe(0)
  })

  it('names the bad field', () => {
    const w = wire()
    w.ops[0].record.status = 'HEALTHY'
    expect(() => decodeBatch(bytes(w))).toThrow('batch.ops[0].record.status')
  })
})

describe('parseRecord', () => {
  it('accepts a complete record and returns a clean copy', () => {
    const r = rec('pay', 'p1', { metadata: { a: '' } })
    expect(parseRecord({ ...r, extra: 1 }, 'r')).toEqual(r)
  })

  it('keeps a metadata key named __proto__ as a plain key (an assignment would set the prototype)', () => {
    const raw = JSON.parse(JSON.stringify(rec('pay', 'p1')).replace('"metadata":{}', '"metadata":{"__proto__":"x","a":"b"}'))
    const parsed = parseRecord(raw, 'r')
    expect(Object.keys(parsed.metadata)).toEqual(['__proto__', 'a'])
    expect(Object.getPrototypeOf(parsed.metadata)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(parsed.metadata, '__proto__')?.value).toBe('x')
  })
})

describe('parseSyncRequest', () => {
  it('accepts a vector', () => {
    expect(parseSyncRequest({ vector: [{ owner: 'A', epoch: 1, seq: 2, liveness: 'x' }] })).toEqual({ vector: [{ owner: 'A', epoch: 1, seq: 2 }] })
  })

  it.each([
    ['not an object', 'v'],
    ['missing vector', {}],
    ['vector not a list', { vector: 'A' }],
    ['entry without owner', { vector: [{ epoch: 1, seq: 2 }] }],
    ['negative seq', { vector: [{ owner: 'A', epoch: 1, seq: -2 }] }],
    ['fractional epoch', { vector: [{ owner: 'A', epoch: 0.5, seq: 2 }] }]
  ])('rejects %s', (_n, raw) => {
    expect(() => parseSyncRequest(raw)).toThrow(ProtocolError)
  })
})

describe('parseSyncResponse', () => {
  const entry = { key: 'pay/p1', stamp: { epoch: 1, seq: 3 }, record: rec('pay', 'p1', { ownerNode: 'A' }) }
  const tomb = { key: 'pay/p2', stamp: { epoch: 1, seq: 4 }, record: null }
  const ofB = { ...entry, record: rec('pay', 'p1', { ownerNode: 'B' }) }
  const valid = (): Json => JSON.parse(JSON.stringify({
    deltas: [{ owner: 'A', epoch: 1, since: 2, head: 4, entries: [entry, tomb] }],
    snapshots: [{ owner: 'B', epoch: 2, seq: 9, floor: { epoch: 2, seq: 0 }, entries: [ofB] }]
  }))

  it('round-trips deltas and snapshots, tombstones included', () => {
    expect(parseSyncResponse(valid())).toEqual(valid())
  })

  it('a parsed snapshot applies to a registry', () => {
    const { reg } = clockedRegistry()
    const res = parseSyncResponse(valid())
    expect(reg.applySnapshot(res.snapshots[0])).toBe(true)
    expect(reg.get('pay', 'pay/p1')).toEqual(ofB.record)
  })

  it.each<[string, (w: Json) => unknown]>([
    ['not an object', () => null],
    ['missing deltas', w => { delete w.deltas; return w }],
    ['missing snapshots', w => { delete w.snapshots; return w }],
    ['delta missing head', w => { delete w.deltas[0].head; return w }],
    ['delta negative since', w => { w.deltas[0].since = -1; return w }],
    ['delta entry without stamp', w => { delete w.deltas[0].entries[0].stamp; return w }],
    ['delta entry negative stamp seq', w => { w.deltas[0].entries[1].stamp.seq = -4; return w }],
    ['delta entry key not matching', w => { w.deltas[0].entries[0].key = 'pay/zz'; return w }],
    ['snapshot missing floor', w => { delete w.snapshots[0].floor; return w }],
    ['snapshot floor not an object', w => { w.snapshots[0].floor = 3; return w }],
    ['snapshot entry bad status', w => { w.snapshots[0].entries[0].record.status = 'OK'; return w }],
    ['snapshot entries not a list', w => { w.snapshots[0].entries = null; return w }],
    ['snapshot empty owner', w => { w.snapshots[0].owner = ''; return w }],
    ['snapshot entry owned by another node', w => { w.snapshots[0].entries[0].record.ownerNode = 'A'; return w }],
    ['delta entry owned by another node', w => { w.deltas[0].entries[0].record.ownerNode = 'B'; return w }],
    ['delta at epoch 0', w => { w.deltas[0].epoch = 0; return w }]
  ])('rejects %s', (_n, mutate) => {
    const { reg } = clockedRegistry()
    expect(() => {
      const res = parseSyncResponse(mutate(valid()))
      for (const s of res.snapshots) reg.applySnapshot(s)
    }).toThrow(ProtocolError)
    expect(reg.owners.size).toBe(0)
  })
})
