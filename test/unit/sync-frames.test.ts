import { describe, it, expect } from 'vitest'
import { ProtocolError } from '../../node/errors.js'
import { parseSyncFrame } from '../../node/gossip/codec.js'
import type { SyncFrame } from '../../node/gossip/codec.js'
import { FrameAssembler, framesOf } from '../../node/gossip/sync-frames.js'
import type { SyncPart } from '../../node/gossip/sync-frames.js'
import type { OwnerSnapshot } from '../../node/registry/owner-state.js'
import { parseCheck } from '../../node/health/check-spec.js'
import { rec } from './registry-fixtures.js'

const entries = (owner: string, n: number): OwnerSnapshot['entries'] =>
  Array.from({ length: n }, (_, i) => ({ key: `pay/${owner}${i}`, stamp: { epoch: 1, seq: i + 1 }, record: rec('pay', `${owner}${i}`, { ownerNode: owner }) }))
const snap = (owner: string, n: number): OwnerSnapshot => ({ owner, epoch: 1, seq: n, floor: { epoch: 1, seq: 0 }, entries: entries(owner, n) })
const delta: SyncPart = { delta: { owner: 'D', epoch: 2, since: 1, head: 3, entries: entries('D', 2).map(e => ({ ...e, stamp: { epoch: 2, seq: e.stamp.seq + 1 } })) } }

/** The frames of `parts` as the asker parses them (after JSON). */
async function collect (parts: SyncPart[], partSize: number): Promise<SyncFrame[]> {
  const out: SyncFrame[] = []
  for await (const f of framesOf(parts, partSize)) out.push(parseSyncFrame(JSON.parse(JSON.stringify(f))))
  return out
}

describe('sync frames', () => {
  it('split snapshots into parts and put them back together, over JSON, in order', async () => {
    const parts: SyncPart[] = [{ snapshot: snap('A', 5) }, delta, { snapshot: snap('B', 0) }, { snapshot: snap('C', 2) }]
    const frames = await collect(parts, 2)
    expect(frames.map(f => 'delta' in f ? 'delta' : `${f.snapshot.owner}:${f.snapshot.entries.length}${f.more ? '+' : ''}`))
      .toEqual(['A:2+', 'A:2+', 'A:1', 'delta', 'B:0', 'C:2'])
    const assembler = new FrameAssembler()
    for (const f of frames) assembler.take(f)
    expect(assembler.end()).toEqual(JSON.parse(JSON.stringify(parts)))
  })

  it('refuse parts that are not consecutive, and an answer that ends inside a snapshot', async () => {
    const [a1, a2] = await collect([{ snapshot: snap('A', 3) }], 2)
    const [b1] = await collect([{ snapshot: snap('B', 3) }], 2)
    const interleaved = new FrameAssembler()
    interleaved.take(a1)
    expect(() => { interleaved.take(b1) }).toThrow(ProtocolError)
    // nor a delta while a snapshot's parts are coming
    expect(() => { interleaved.take(delta as SyncFrame) }).toThrow(ProtocolError)
    const cut = new FrameAssembler()
    cut.take(a1)
    expect(() => { cut.end() }).toThrow(ProtocolError)
    // a later head of the same owner is another snapshot, not the next part
    const moved = new FrameAssembler()
    moved.take(a1)
    expect(() => { moved.take({ ...a2, snapshot: { ...(a2 as { snapshot: OwnerSnapshot }).snapshot, seq: 9 } } as SyncFrame) }).toThrow(ProtocolError)
  })

  it('keep tombstones, loads and checks; refuse a record whose owner node is not the frame\'s owner', async () => {
    const full = rec('pay', 'x1', { ownerNode: 'A', load: 3, check: parseCheck({ tcp: {} }) ?? undefined })
    expect(full.check?.kind).toBe('tcp')
    const parts: SyncPart[] = [{ snapshot: { owner: 'A', epoch: 1, seq: 4, floor: { epoch: 1, seq: 0 }, entries: [
      { key: 'pay/x1', stamp: { epoch: 1, seq: 2 }, record: full },
      { key: 'pay/gone', stamp: { epoch: 1, seq: 4 }, record: null }
    ] } }]
    const [frame] = await collect(parts, 10)
    expect(frame).toEqual({ snapshot: JSON.parse(JSON.stringify((parts[0] as { snapshot: OwnerSnapshot }).snapshot)), more: false })
    // only the owner writes its records: another node's id in A's part is a forgery
    const forged: SyncPart[] = [{ snapshot: { owner: 'A', epoch: 1, seq: 4, floor: { epoch: 1, seq: 0 }, entries: [
      { key: 'pay/x1', stamp: { epoch: 1, seq: 2 }, record: { ...full, ownerNode: 'Z' } }
    ] } }]
    await expect(collect(forged, 10)).rejects.toThrow(/^frame\.snapshot\.entries\[0\]\[2\]\.ownerNode: /)
  })

  const wire = (entries: unknown[]): unknown => ({ snapshot: { owner: 'A', epoch: 1, seq: 1, floor: { epoch: 1, seq: 0 }, entries } })
  const values = (): unknown[] => ['pay', 'p1', '10.0.0.1', 80, '', '', [], {}, 100, '', 'PASSING', '', 1000, 1000, 30000]
  it.each<[string, unknown, RegExp]>([
    ['not an object', 'x', /^frame: /],
    ['neither delta nor snapshot', {}, /^frame\.snapshot: /],
    ['more not a boolean', { ...(wire([]) as object), more: 'yes' }, /^frame\.more: /],
    ['an entry that is not a triple', wire([[1, 1]]), /^frame\.snapshot\.entries\[0\]: /],
    ['a negative seq', wire([[1, -1, values()]]), /^frame\.snapshot\.entries\[0\]\[1\]: /],
    ['too few record values', wire([[1, 1, values().slice(0, 10)]]), /^frame\.snapshot\.entries\[0\]\[2\]: /],
    ['a port that is not a number', wire([[1, 1, values().map((v, i) => i === 3 ? 'x' : v)]]), /^frame\.snapshot\.entries\[0\]\[2\]\.port: /],
    ['an unknown status', wire([[1, 1, values().map((v, i) => i === 10 ? 'OK' : v)]]), /^frame\.snapshot\.entries\[0\]\[2\]\.status: /],
    ['a delta without head', { delta: { owner: 'D', epoch: 1, since: 0, entries: [] } }, /^frame\.delta\.head: /],
    ['an empty delta claiming a far head', { delta: { owner: 'D', epoch: 5, since: 1, head: 1_000_000, entries: [] } }, /^frame\.delta\.entries: none at the head/],
    ['a delta whose head is below since', { delta: { owner: 'D', epoch: 5, since: 4, head: 3, entries: [] } }, /^frame\.delta\.head: /],
    ['a delta entry outside (since, head]', { delta: { owner: 'D', epoch: 1, since: 1, head: 2, entries: [[1, 2, 'pay/a'], [1, 7, 'pay/b']] } }, /^frame\.delta\.entries\[1\]: /],
    ['a delta entry of another epoch', { delta: { owner: 'D', epoch: 2, since: 0, head: 1, entries: [[1, 1, 'pay/a']] } }, /^frame\.delta\.entries\[0\]: /],
    ['a snapshot at epoch 0 (no owner has one)', { snapshot: { owner: 'A', epoch: 0, seq: 5, floor: { epoch: 0, seq: 0 }, entries: [] } }, /^frame\.snapshot\.epoch: /],
    ['a snapshot entry past its head', wire([[1, 2, 'pay/a']]), /^frame\.snapshot\.entries\[0\]\.stamp: /],
    ['a snapshot floor past its head', { snapshot: { owner: 'A', epoch: 1, seq: 1, floor: { epoch: 1, seq: 2 }, entries: [] } }, /^frame\.snapshot\.floor: /],
    ['an owner id over 128 characters', { snapshot: { owner: 'o'.repeat(129), epoch: 1, seq: 1, floor: { epoch: 1, seq: 0 }, entries: [] } }, /^frame\.snapshot\.owner: /],
    ['a port over 65535', wire([[1, 1, values().map((v, i) => i === 3 ? 70_000 : v)]]), /^frame\.snapshot\.entries\[0\]\[2\]\.port: /],
    ['a weight over 10000', wire([[1, 1, values().map((v, i) => i === 8 ? 2 ** 32 + 5 : v)]]), /^frame\.snapshot\.entries\[0\]\[2\]\.weight: /],
    ['a service with "/"', wire([[1, 1, values().map((v, i) => i === 0 ? 'a/b' : v)]]), /^frame\.snapshot\.entries\[0\]\[2\]\.service: /],
    ['65 tags', wire([[1, 1, values().map((v, i) => i === 6 ? Array.from({ length: 65 }, (_, k) => `t${k}`) : v)]]), /^frame\.snapshot\.entries\[0\]\[2\]\.tags: /],
    ['a metadata key of 257 bytes', wire([[1, 1, values().map((v, i) => i === 7 ? { ['k'.repeat(257)]: 'v' } : v)]]), /^frame\.snapshot\.entries\[0\]\[2\]\.metadata: key 0/],
    ['65 metadata pairs', wire([[1, 1, values().map((v, i) => i === 7 ? Object.fromEntries(Array.from({ length: 65 }, (_, k) => [`k${k}`, 'v'])) : v)]]), /^frame\.snapshot\.entries\[0\]\[2\]\.metadata: /]
  ])('parseSyncFrame rejects %s, naming the field', (_n, raw, message) => {
    expect(() => parseSyncFrame(JSON.parse(JSON.stringify(raw)))).toThrow(message)
  })

  it('parseSyncFrame takes a well-formed record\'s values, its owner node from the frame', () => {
    const f = parseSyncFrame(wire([[1, 1, values()]]))
    expect('snapshot' in f && f.snapshot.entries[0]).toEqual({ key: 'pay/p1', stamp: { epoch: 1, seq: 1 }, record: expect.objectContaining({ service: 'pay', instanceId: 'p1', ownerNode: 'A', port: 80 }) })
  })
})
