import { describe, it, expect } from 'vitest'
import { OwnerState } from '../../node/registry/owner-state.js'
import type { OwnerSnapshot } from '../../node/registry/owner-state.js'
import { compareStamps, recordKey } from '../../node/registry/types.js'
import type { Op } from '../../node/registry/types.js'
import { batch, del, put, rec } from './registry-fixtures.js'

const a1 = rec('svc', 'a1')
const a2 = rec('svc', 'a2')
const a3 = rec('svc', 'a3')
const K1 = recordKey('svc', 'a1')
const K2 = recordKey('svc', 'a2')
const K3 = recordKey('svc', 'a3')

/** Ops putting a fresh record of key svc/i<seq> at each seq in [from, to]. */
function ops (from: number, to: number): Op[] {
  const out: Op[] = []
  for (let s = from; s <= to; s++) out.push(put(s, rec('svc', `i${s}`)))
  return out
}

/** An owner X at epoch 5, seq 3 (svc/i1..i3 live). */
function known (): OwnerState {
  const o = new OwnerState('X')
  expect(o.applyBatch(batch('X', 5, ...ops(1, 3)), 0).kind).toBe('applied')
  return o
}

describe('compareStamps', () => {
  it.each([
    [{ epoch: 1, seq: 9 }, { epoch: 2, seq: 0 }, -1],
    [{ epoch: 2, seq: 1 }, { epoch: 2, seq: 3 }, -1],
    [{ epoch: 2, seq: 3 }, { epoch: 2, seq: 3 }, 0],
    [{ epoch: 3, seq: 0 }, { epoch: 2, seq: 99 }, 1]
  ])('%o vs %o → sign %i', (a, b, sign) => {
    expect(Math.sign(compareStamps(a, b))).toBe(sign)
  })
})

describe('OwnerState.applyBatch on a known owner (epoch 5, seq 3)', () => {
  it.each([
    ['empty batch', 5, [] as Op[], 'stale', 3],
    ['older epoch', 4, ops(4, 5), 'stale', 3],
    ['exact duplicate', 5, ops(1, 3), 'stale', 3],
    ['already applied suffix', 5, ops(2, 3), 'stale', 3],
    ['overlapping, continues', 5, ops(2, 5), 'applied', 5],
    ['continues exactly', 5, ops(4, 4), 'applied', 4],
    ['first seq > head + 1', 5, ops(5, 6), 'gap', 3],
    ['new epoch from seq 1', 6, ops(1, 2), 'gap', 3],
    ['new epoch from later seq', 6, ops(4, 5), 'gap', 3]
  ])('%s → %s', (_name, epoch, batchOps, kind, seqAfter) => {
    const o = known()
    const r = o.applyBatch(batch('X', epoch, ...batchOps), 0)
    expect(r.kind).toBe(kind)
    expect(o.head).toEqual({ epoch: 5, seq: seqAfter })
    expect(o.size).toBe(seqAfter)
  })

  it('reports only the changes of ops it had not applied yet', () => {
    const o = known()
    const r = o.applyBatch(batch('X', 5, ...ops(2, 5)), 0)
    expect(r).toEqual({ kind: 'applied', changes: [
      { key: 'svc/i4', before: null, after: rec('svc', 'i4') },
      { key: 'svc/i5', before: null, after: rec('svc', 'i5') }
    ] })
  })
})

describe('OwnerState.applyBatch on a fresh owner', () => {
  it.each([
    ['seq 1 of any epoch', 7, 1, 'applied', { epoch: 7, seq: 2 }],
    ['seq > 1', 7, 2, 'gap', { epoch: 0, seq: 0 }]
  ])('%s → %s', (_name, epoch, first, kind, head) => {
    const o = new OwnerState('X')
    expect(o.applyBatch(batch('X', epoch, ...ops(first, first + 1)), 0).kind).toBe(kind)
    expect(o.head).toEqual(head)
  })

  it('a fresh owner never knew earlier epochs: the floor moves to the new epoch', () => {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 7, ...ops(1, 1)), 0)
    expect(o.floor).toEqual({ epoch: 7, seq: 0 })
    expect(o.deltaSince({ epoch: 6, seq: 10 })).toBeNull()
  })
})

describe('OwnerState op log', () => {
  it('applies ops in order: put, update, delete', () => {
    const o = new OwnerState('X')
    const b = { ...a1, updatedAtMs: 2000 }
    const r = o.applyBatch(batch('X', 1, put(1, a1), put(2, b), del(3, K1)), 50)
    expect(r).toEqual({ kind: 'applied', changes: [
      { key: K1, before: null, after: a1 },
      { key: K1, before: a1, after: b },
      { key: K1, before: b, after: null }
    ] })
    expect(o.size).toBe(0)
    expect(o.entries.get(K1)).toEqual({ key: K1, epoch: 1, seq: 3, record: null, deletedAtMs: 50 })
  })

  it('deleting a key it never had makes a tombstone but reports no change', () => {
    const o = new OwnerState('X')
    expect(o.applyBatch(batch('X', 1, del(1, K1)), 0)).toEqual({ kind: 'applied', changes: [] })
    expect(o.entries.get(K1)?.record).toBeNull()
    expect(o.seq).toBe(1)
  })
})

describe('OwnerState.deltaSince', () => {
  function log (): OwnerState {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 2, put(1, a1), put(2, a2), put(3, a3), del(4, K2), put(5, a1)), 0)
    return o
  }

  it.each([
    ['the start of the epoch', { epoch: 2, seq: 0 }, [K3, K2, K1]],
    ['mid log, oldest first', { epoch: 2, seq: 3 }, [K2, K1]],
    ['just before the head', { epoch: 2, seq: 4 }, [K1]],
    ['the head', { epoch: 2, seq: 5 }, []]
  ])('since %s', (_name, since, keys) => {
    expect(log().deltaSince(since)?.map(e => e.key)).toEqual(keys)
  })

  it.each([
    ['above the head', { epoch: 2, seq: 6 }],
    ['a later epoch', { epoch: 3, seq: 0 }],
    ['below the floor (an earlier epoch)', { epoch: 1, seq: 9 }]
  ])('null %s', (_name, since) => {
    expect(log().deltaSince(since)).toBeNull()
  })

  it('includes tombstones', () => {
    const d = log().deltaSince({ epoch: 2, seq: 3 })
    expect(d?.[0]).toMatchObject({ key: K2, record: null, epoch: 2, seq: 4 })
  })
})

describe('OwnerState.replaceWith', () => {
  function snap (seq: number, entries: OwnerSnapshot['entries'], floor = { epoch: 1, seq: 0 }, epoch = 1): OwnerSnapshot {
    return { owner: 'X', epoch, seq, floor, entries }
  }

  it('ignores a snapshot that is not newer', () => {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 1, put(1, a1), put(2, a2)), 0)
    expect(o.replaceWith(snap(2, []), 0)).toBeNull()
    expect(o.replaceWith(snap(1, []), 0)).toBeNull()
    expect(o.size).toBe(2)
  })

  it('turns live keys missing from the snapshot into tombstones at its head, and drops missing tombstones', () => {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 1, put(1, a1), put(2, a2), put(3, a3), del(4, K3)), 0)
    // the owner deleted a1 at seq 5 and pruned the tombstone; a2 unchanged at seq 2
    const changes = o.replaceWith(snap(6, [{ key: K2, stamp: { epoch: 1, seq: 2 }, record: a2 }], { epoch: 1, seq: 5 }), 77)
    expect(changes).toEqual([{ key: K1, before: a1, after: null }])
    expect(o.entries.get(K1)).toEqual({ key: K1, epoch: 1, seq: 6, record: null, deletedAtMs: 77 })
    expect(o.entries.has(K3)).toBe(false)
    expect(o.head).toEqual({ epoch: 1, seq: 6 })
    expect(o.floor).toEqual({ epoch: 1, seq: 5 })
    expect(o.size).toBe(1)
  })

  it('a deleted record does not come back when an old batch arrives after the snapshot', () => {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 1, put(1, a1)), 0)
    o.replaceWith(snap(3, [{ key: K2, stamp: { epoch: 1, seq: 3 }, record: a2 }], { epoch: 1, seq: 2 }), 0)
    expect(o.applyBatch(batch('X', 1, put(1, a1), del(2, K1)), 0).kind).toBe('stale')
    expect(o.applyBatch(batch('X', 1, put(2, a1)), 0).kind).toBe('stale')
    expect(o.entries.get(K1)?.record).toBeNull()
    expect([...o.records()]).toEqual([a2])
  })

  it('replaces a sub-map of an older epoch', () => {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 1, put(1, a1), put(2, a2)), 0)
    const changes = o.replaceWith(snap(1, [{ key: K2, stamp: { epoch: 2, seq: 1 }, record: a2 }], { epoch: 2, seq: 0 }, 2), 0)
    expect(changes).toEqual([{ key: K1, before: a1, after: null }, { key: K2, before: a2, after: a2 }])
    expect(o.head).toEqual({ epoch: 2, seq: 1 })
    expect(o.deltaSince({ epoch: 1, seq: 2 })).toBeNull()
  })

  it('round-trips: a snapshot applied to a fresh owner reproduces the entries, tombstones and floor', () => {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 3, put(1, a1), put(2, a2), del(3, K1)), 0)
    const p = new OwnerState('X')
    p.replaceWith(o.snapshot(), 0)
    expect(p.snapshot()).toEqual(o.snapshot())
    expect(p.deltaSince({ epoch: 3, seq: 2 })?.map(e => e.key)).toEqual([K1])
  })
})

describe('OwnerState.applyDelta', () => {
  function at3 (): OwnerState {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 4, put(1, a1), put(2, a2), put(3, a3)), 0)
    return o
  }

  it('applies the entries after its head and moves to the delta head', () => {
    const o = at3()
    const changes = o.applyDelta({ owner: 'X', epoch: 4, since: 2, head: 6, entries: [
      { key: K3, stamp: { epoch: 4, seq: 3 }, record: a3 },
      { key: K1, stamp: { epoch: 4, seq: 5 }, record: null }
    ] }, 0)
    expect(changes).toEqual([{ key: K1, before: a1, after: null }])
    expect(o.head).toEqual({ epoch: 4, seq: 6 })
  })

  it.each([
    ['another epoch', { epoch: 5, since: 0, head: 2 }, null],
    ['since beyond our head', { epoch: 4, since: 4, head: 6 }, null],
    ['head not beyond ours', { epoch: 4, since: 1, head: 3 }, []]
  ])('%s → %o', (_name, d, expected) => {
    const o = at3()
    expect(o.applyDelta({ owner: 'X', ...d, entries: [{ key: K1, stamp: { epoch: d.epoch, seq: d.head }, record: null }] }, 0)).toEqual(expected)
    expect(o.head).toEqual({ epoch: 4, seq: 3 })
    expect(o.size).toBe(3)
  })
})

describe('OwnerState.dropAll / forget', () => {
  it('dropAll tombstones every live record at its own stamp', () => {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 1, put(1, a1), put(2, a2)), 0)
    expect(o.dropAll(9).map(c => c.key)).toEqual([K1, K2])
    expect(o.size).toBe(0)
    expect(o.entries.get(K2)).toMatchObject({ epoch: 1, seq: 2 })
    expect(o.head).toEqual({ epoch: 1, seq: 2 })
  })

  it('forget also drops the head to zero so the next batch is taken as from a fresh owner', () => {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 1, put(1, a1)), 0)
    expect(o.forget(0)).toHaveLength(1)
    expect(o.head).toEqual({ epoch: 0, seq: 0 })
    expect(o.applyBatch(batch('X', 2, put(1, a2)), 0).kind).toBe('applied')
    expect([...o.records()]).toEqual([a2])
  })

  // regression: a forgotten owner's tombstones sit at its records' stamps; its snapshot must still win
  it('after forget, the same-epoch snapshot of the unchanged sub-map restores the records, from the owner only', () => {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 1, put(1, a1)), 0)
    const snap = o.snapshot()
    o.forget(0)
    expect(o.replaceWith(snap, 0)).toBeNull()
    o.replaceWith(snap, 0, true)
    expect([...o.records()]).toEqual([a1])
  })
})

describe('OwnerState after forget: nothing older than what it forgot (review)', () => {
  /** X at epoch 1: a1, a2 live, then a2 deleted at seq 3; a lagging copy stopped at seq 2. */
  function forgottenAfterDelete (): { o: OwnerState, lagging: OwnerSnapshot } {
    const o = new OwnerState('X')
    const lag = new OwnerState('X')
    o.applyBatch(batch('X', 1, put(1, a1), put(2, a2)), 0)
    lag.applyBatch(batch('X', 1, put(1, a1), put(2, a2)), 0)
    expect(o.applyBatch(batch('X', 1, del(3, K2)), 0).kind).toBe('applied')
    o.forget(0)
    return { o, lagging: lag.snapshot() }
  }

  it("refuses a lagging peer's older snapshot: a record seen deleted does not come back", () => {
    const { o, lagging } = forgottenAfterDelete()
    expect(o.replaceWith(lagging, 0)).toBeNull()
    expect([...o.records()]).toEqual([])
    expect(o.entries.get(K2)?.record).toBeNull()
  })

  it('takes a snapshot at the forgotten head from the owner itself', () => {
    const { o } = forgottenAfterDelete()
    const current = new OwnerState('X')
    current.applyBatch(batch('X', 1, put(1, a1), put(2, a2), del(3, K2)), 0)
    expect(o.replaceWith(current.snapshot(), 0, true)).not.toBeNull()
    expect([...o.records()]).toEqual([a1])
    expect(o.head).toEqual({ epoch: 1, seq: 3 })
  })

  it('a batch starting at seq 1 of the forgotten epoch is a gap (pull), of a later epoch a fresh start', () => {
    const { o } = forgottenAfterDelete()
    expect(o.applyBatch(batch('X', 1, put(1, a1)), 0).kind).toBe('gap')
    expect(o.applyBatch(batch('X', 2, put(1, a3)), 0).kind).toBe('applied')
    expect([...o.records()]).toEqual([a3])
  })
})

describe('OwnerState.pruneTombstones', () => {
  function withTombstones (): OwnerState {
    const o = new OwnerState('X')
    o.applyBatch(batch('X', 1, put(1, a1), put(2, a2), put(3, a3)), 0)
    o.applyBatch(batch('X', 1, del(4, K1)), 100)
    o.applyBatch(batch('X', 1, del(5, K2)), 200)
    return o
  }

  it('prunes tombstones past retention and raises the floor to the newest pruned stamp', () => {
    const o = withTombstones()
    expect(o.pruneTombstones(250, 100, 1000)).toBe(1)
    expect(o.entries.has(K1)).toBe(false)
    expect(o.entries.has(K2)).toBe(true)
    expect(o.floor).toEqual({ epoch: 1, seq: 4 })
    expect(o.deltaSince({ epoch: 1, seq: 3 })).toBeNull()
    expect(o.deltaSince({ epoch: 1, seq: 4 })?.map(e => e.key)).toEqual([K2])
  })

  it('prunes the oldest past maxCount even inside retention, never live records', () => {
    const o = withTombstones()
    expect(o.pruneTombstones(200, 10_000, 0)).toBe(2)
    expect(o.floor).toEqual({ epoch: 1, seq: 5 })
    expect([...o.records()]).toEqual([a3])
    expect(o.pruneTombstones(200, 0, 0)).toBe(0)
  })

  it('keeps everything within retention and count', () => {
    const o = withTombstones()
    expect(o.pruneTombstones(150, 100, 2)).toBe(0)
    expect(o.floor).toEqual({ epoch: 1, seq: 0 })
    expect(o.deltaSince({ epoch: 1, seq: 0 })).toHaveLength(3)
  })
})
