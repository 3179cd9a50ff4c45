import { describe, it, expect } from 'vitest'
import { newer, Registry } from '../../node/registry/registry.js'
import type { ViewChange } from '../../node/registry/registry.js'
import { recordKey } from '../../node/registry/types.js'
import { MAX_DROPPED, MAX_OWNERS } from '../../node/registry/limits.js'
import { decodeVector, encodeVector } from '../../node/registry/version-vector.js'
import { batch, clockedRegistry, del, put, rec } from './registry-fixtures.js'

const KEY = recordKey('pay', 'p1')

/** The same instance registered at owner A (older) and at owner B (newer: the client failed over). */
const atA = rec('pay', 'p1', { ownerNode: 'A', registeredAtMs: 1000, updatedAtMs: 1000, address: 'a' })
const atB = rec('pay', 'p1', { ownerNode: 'B', registeredAtMs: 2000, updatedAtMs: 2000, address: 'b' })

function listen (reg: Registry): ViewChange[] {
  const seen: ViewChange[] = []
  reg.subscribe(cs => { seen.push(...cs) })
  return seen
}

describe('newer', () => {
  it.each([
    ['later registration wins', { registeredAtMs: 2 }, { registeredAtMs: 1, updatedAtMs: 9 }, true],
    ['earlier registration loses', { registeredAtMs: 1, updatedAtMs: 9 }, { registeredAtMs: 2 }, false],
    ['tie: later update wins', { registeredAtMs: 1, updatedAtMs: 5 }, { registeredAtMs: 1, updatedAtMs: 4 }, true],
    ['full tie: larger owner id wins', { ownerNode: 'B' }, { ownerNode: 'A' }, true],
    ['full tie: smaller owner id loses', { ownerNode: 'A' }, { ownerNode: 'B' }, false]
  ])('%s', (_n, a, b, expected) => {
    expect(newer(rec('s', 'i', a), rec('s', 'i', b))).toBe(expected)
  })
})

describe('Registry: one owner', () => {
  it('applies batches into the view; listeners hear the net change of each key per batch', () => {
    const { reg } = clockedRegistry()
    const seen = listen(reg)
    const r1 = rec('pay', 'p1')
    const r2 = rec('pay', 'p2')
    expect(reg.applyBatch(batch('A', 1, put(1, r1), put(2, r2), del(3, KEY))).kind).toBe('applied')
    expect(reg.size).toBe(1)
    expect(reg.get('pay', recordKey('pay', 'p2'))).toBe(r2)
    expect(reg.get('pay', KEY)).toBeUndefined()
    // p1 came and went inside the batch: the view never showed it
    expect(seen).toEqual([{ key: 'pay/p2', service: 'pay', before: null, after: r2 }])
    expect(reg.vector()).toEqual([{ owner: 'A', epoch: 1, seq: 3, liveness: 'alive' }])
    reg.applyBatch(batch('A', 1, put(4, r1)))
    reg.applyBatch(batch('A', 1, del(5, KEY)))
    expect(seen.slice(1)).toEqual([
      { key: KEY, service: 'pay', before: null, after: r1 },
      { key: KEY, service: 'pay', before: r1, after: null }
    ])
  })

  it('a stale or gap batch changes nothing, not even the vector version', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    const v = reg.vectorVersion
    const seen = listen(reg)
    expect(reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1', { address: 'x' })))).kind).toBe('stale')
    expect(reg.applyBatch(batch('A', 1, put(3, rec('pay', 'p3')))).kind).toBe('gap')
    expect(reg.applyBatch(batch('A', 2, put(1, rec('pay', 'p4')))).kind).toBe('gap')
    expect(reg.vectorVersion).toBe(v)
    expect(seen).toEqual([])
    expect(reg.get('pay', KEY)?.address).toBe('10.0.0.1')
  })

  it('drops empty services from services()', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1')), put(2, rec('cart', 'c1'))))
    reg.applyBatch(batch('A', 1, del(3, KEY)))
    expect([...reg.services()].map(([s]) => s)).toEqual(['cart'])
    expect(reg.service('pay')).toBeUndefined()
  })

  it('applyDelta / applySnapshot report whether they fit', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    expect(reg.applyDelta({ owner: 'A', epoch: 2, since: 0, head: 1, entries: [] })).toBe(false)
    expect(reg.applyDelta({ owner: 'A', epoch: 1, since: 1, head: 2, entries: [{ key: KEY, stamp: { epoch: 1, seq: 2 }, record: null }] })).toBe(true)
    expect(reg.size).toBe(0)
    expect(reg.applySnapshot({ owner: 'A', epoch: 1, seq: 2, floor: { epoch: 1, seq: 0 }, entries: [] })).toBe(false)
  })

  it('prune raises the floor of every owner', () => {
    const { reg, clock } = clockedRegistry(0)
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1')), del(2, KEY)))
    reg.applyBatch(batch('B', 1, put(1, rec('pay', 'p2', { ownerNode: 'B' })), del(2, 'pay/p2')))
    clock.t = 1000
    expect(reg.prune(500, 100)).toBe(2)
    expect(reg.owner('A').floor).toEqual({ epoch: 1, seq: 2 })
    expect(reg.owner('B').floor).toEqual({ epoch: 1, seq: 2 })
  })
})

describe('Registry: two owners hold the same key', () => {
  it.each([
    ['older first', [['A', atA], ['B', atB]]],
    ['newer first', [['B', atB], ['A', atA]]]
  ] as const)('the newer registration wins whatever the arrival order (%s)', (_n, order) => {
    const { reg } = clockedRegistry()
    for (const [owner, r] of order) reg.applyBatch(batch(owner, 1, put(1, r)))
    expect(reg.get('pay', KEY)).toBe(atB)
    expect(reg.size).toBe(1)
  })

  it("the old owner's later delete removes only its copy: the view keeps the newer one, silently", () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, atA)))
    reg.applyBatch(batch('B', 1, put(1, atB)))
    const seen = listen(reg)
    reg.applyBatch(batch('A', 1, del(2, KEY)))
    expect(reg.get('pay', KEY)).toBe(atB)
    expect(seen).toEqual([])
  })

  it("the newer owner's delete falls back to the older copy", () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, atA)))
    reg.applyBatch(batch('B', 1, put(1, atB)))
    const seen = listen(reg)
    reg.applyBatch(batch('B', 1, del(2, KEY)))
    expect(reg.get('pay', KEY)).toBe(atA)
    expect(seen).toEqual([{ key: KEY, service: 'pay', before: atB, after: atA }])
    reg.applyBatch(batch('A', 1, del(2, KEY)))
    expect(reg.get('pay', KEY)).toBeUndefined()
    expect(reg.size).toBe(0)
  })
})

describe('Registry: owner liveness', () => {
  it('drops gone owners that membership no longer lists, and nothing else; the view does not change', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    reg.applyBatch(batch('B', 1, put(1, rec('pay', 'p2', { ownerNode: 'B' }))))
    reg.applyBatch(batch('C', 1, put(1, rec('pay', 'p3', { ownerNode: 'C' }))))
    reg.applyBatch(batch('D', 1, put(1, rec('pay', 'p4', { ownerNode: 'D' }))))
    reg.setLiveness('B', 'gone')
    reg.setLiveness('C', 'gone')
    reg.setLiveness('D', 'dead')
    const digest = reg.digest()
    const token = encodeVector(reg.vector())
    // listed: A (alive) and C (gone, still in membership); B gone and forgotten; D dead and forgotten
    expect(reg.dropGoneOwners(id => id === 'A' || id === 'C')).toBe(1)
    expect(reg.vector().map(e => e.owner).sort()).toEqual(['A', 'C', 'D'])
    expect(Buffer.from(encodeVector(reg.vector())).equals(Buffer.from(token))).toBe(false)
    expect(reg.digest()).toBe(digest)
    expect(reg.get('pay', 'pay/p4')?.status).toBe('CRITICAL')
    expect(reg.dropGoneOwners(() => false)).toBe(1)
    expect(reg.vector().map(e => e.owner).sort()).toEqual(['A', 'D'])
  })

  it('a dropped owner stays gone: a stale peer\'s snapshot and a rumour of its death do not bring it back (review)', () => {
    const { reg } = clockedRegistry()
    const old = rec('pay', 'p2', { ownerNode: 'B' })
    reg.applyBatch(batch('B', 1, put(1, old), put(2, rec('pay', 'p3', { ownerNode: 'B' }))))
    reg.setLiveness('B', 'gone')
    reg.dropGoneOwners(() => false)
    expect(reg.livenessOf('B')).toBe('gone')
    // a peer paused for longer than membership kept B still holds its records
    const stale = { owner: 'B', epoch: 1, seq: 2, floor: { epoch: 1, seq: 0 }, entries: [{ key: 'pay/p2', stamp: { epoch: 1, seq: 1 }, record: old }] }
    expect(reg.applySnapshot(stale, 'C')).toBe(false)
    // membership re-learns B as DEAD from a peer that has not forgotten it: nothing comes back
    reg.setLiveness('B', 'dead')
    expect(reg.owners.has('B')).toBe(false)
    // re-learned ALIVE from that stale peer: its old head still guards it
    reg.setLiveness('B', 'alive')
    expect(reg.applySnapshot(stale, 'C')).toBe(false)
    expect(reg.get('pay', 'pay/p2')).toBeUndefined()
    expect(reg.size).toBe(0)
  })

  it('a dropped owner back with its data dir (a new epoch) is taken from its own ops, once membership says ALIVE', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('B', 1, put(1, rec('pay', 'p2', { ownerNode: 'B' }))))
    reg.setLiveness('B', 'gone')
    reg.dropGoneOwners(() => false)
    expect(reg.owners.has('B')).toBe(false)
    const announced = batch('B', 2, put(1, rec('pay', 'p2', { ownerNode: 'B', updatedAtMs: 9000 })))
    expect(reg.applyBatch(announced).kind).toBe('stale')
    reg.setLiveness('B', 'alive')
    expect(reg.applyBatch(announced).kind).toBe('applied')
    expect(reg.get('pay', 'pay/p2')?.updatedAtMs).toBe(9000)
    expect(reg.livenessOf('B')).toBe('alive')
  })

  it(`remembers at most ${MAX_DROPPED} dropped owners, forgetting the oldest first`, () => {
    const { reg } = clockedRegistry()
    for (let i = 0; i <= MAX_DROPPED; i++) reg.setLiveness(`o${i}`, 'gone')
    expect(reg.dropGoneOwners(() => false)).toBe(MAX_DROPPED + 1)
    expect(reg.wasDropped('o0')).toBe(false)
    expect(reg.wasDropped('o1')).toBe(true)
    expect(reg.wasDropped(`o${MAX_DROPPED}`)).toBe(true)
    expect(reg.vector()).toEqual([])
  })

  it('a DEAD owner shows its records CRITICAL; alive again restores them', () => {
    const { reg } = clockedRegistry()
    const r = rec('pay', 'p1')
    reg.applyBatch(batch('A', 1, put(1, r)))
    const seen = listen(reg)
    reg.setLiveness('A', 'dead')
    expect(reg.get('pay', KEY)?.status).toBe('CRITICAL')
    expect(reg.get('pay', KEY)?.address).toBe(r.address)
    expect(seen.at(-1)?.after?.status).toBe('CRITICAL')
    expect(reg.vector()[0].liveness).toBe('dead')
    reg.setLiveness('A', 'alive')
    expect(reg.get('pay', KEY)).toBe(r)
  })

  it('a DEAD newer owner does not hide behind the older alive copy (stays CRITICAL)', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, atA)))
    reg.applyBatch(batch('B', 1, put(1, atB)))
    reg.setLiveness('B', 'dead')
    expect(reg.get('pay', KEY)).toMatchObject({ ownerNode: 'B', status: 'CRITICAL' })
  })

  /** Owner A's sub-map after it restarted in epoch 2 and re-announced p1 and p2. */
  const restarted = {
    owner: 'A', epoch: 2, seq: 2, floor: { epoch: 2, seq: 0 },
    entries: [
      { key: KEY, stamp: { epoch: 2, seq: 1 }, record: rec('pay', 'p1', { updatedAtMs: 5000 }) },
      { key: 'pay/p2', stamp: { epoch: 2, seq: 2 }, record: rec('pay', 'p2', { updatedAtMs: 5000 }) }
    ]
  }

  it("'gone' drops the records and the head; the owner's later snapshot brings them back", () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1')), put(2, rec('pay', 'p2'))))
    reg.setLiveness('A', 'dead')
    const seen = listen(reg)
    reg.setLiveness('A', 'gone')
    expect(reg.size).toBe(0)
    expect(seen.map(c => [c.key, c.after])).toEqual([[KEY, null], ['pay/p2', null]])
    expect(reg.vector()).toEqual([{ owner: 'A', epoch: 0, seq: 0, liveness: 'gone' }])
    // the owner comes back (membership says alive) and anti-entropy pulls its sub-map
    reg.setLiveness('A', 'alive')
    expect(reg.applySnapshot(restarted)).toBe(true)
    expect(reg.get('pay', KEY)).toBe(restarted.entries[0].record)
    expect(reg.size).toBe(2)
  })

  it("a 'gone' owner's state is not re-imported from peers; once it is alive again its own comes in", () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    reg.setLiveness('A', 'gone')
    // a peer that has not reaped A yet must not hand its stale sub-map back (chaos run bug D)
    expect(reg.applySnapshot(restarted)).toBe(false)
    expect(reg.applyBatch(batch('A', 2, put(1, rec('pay', 'p9')))).kind).toBe('stale')
    expect(reg.size).toBe(0)
    reg.setLiveness('A', 'alive')
    expect(reg.applySnapshot(restarted)).toBe(true)
    expect(reg.size).toBe(2)
  })

  // regression: after a false verdict the owner's same-epoch snapshot must restore its records
  it("after 'gone', a same-epoch snapshot of the unchanged sub-map restores the records", () => {
    const { reg } = clockedRegistry()
    const r = rec('pay', 'p1')
    reg.applyBatch(batch('A', 1, put(1, r)))
    const snap = reg.owner('A').snapshot()
    reg.setLiveness('A', 'gone')
    reg.setLiveness('A', 'alive')
    // from another node that has not reaped A yet: refused, it may be the sub-map of an epoch since replaced
    expect(reg.applySnapshot(snap, 'B')).toBe(false)
    expect(reg.get('pay', KEY)).toBeUndefined()
    // from A itself
    expect(reg.applySnapshot(snap, 'A')).toBe(true)
    expect(reg.get('pay', KEY)).toBe(r)
  })

  it('setting the liveness it already has changes nothing; an unknown owner keeps its verdict', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    const v = reg.vectorVersion
    reg.setLiveness('A', 'alive')
    expect(reg.vectorVersion).toBe(v)
    reg.setLiveness('Z', 'dead')
    expect(reg.owners.get('Z')?.liveness).toBe('dead')
    expect(reg.size).toBe(1)
  })

  // regression: a verdict that arrives before the owner's records must still apply to them
  it('records learned after the owner was declared DEAD still show CRITICAL', () => {
    const { reg } = clockedRegistry()
    reg.setLiveness('A', 'dead')
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    expect(reg.get('pay', KEY)?.status).toBe('CRITICAL')
  })
})

describe('Registry.digest', () => {
  function fedByBatches (): Registry {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, atA), put(2, rec('pay', 'p2')), del(3, 'pay/p2'), put(4, rec('pay', 'p3'))))
    reg.applyBatch(batch('B', 1, put(1, atB), put(2, rec('cart', 'c1', { ownerNode: 'B' }))))
    return reg
  }

  it('is equal on registries fed the same ops in different orders (batches vs snapshot)', () => {
    const r1 = fedByBatches()
    const { reg: r2 } = clockedRegistry()
    expect(r2.digest()).not.toBe(r1.digest())
    r2.applyBatch(batch('B', 1, put(1, atB)))
    r2.applyBatch(batch('B', 1, put(2, rec('cart', 'c1', { ownerNode: 'B' }))))
    expect(r2.digest()).not.toBe(r1.digest())
    r2.applySnapshot(r1.owner('A').snapshot())
    expect(r2.digest()).toBe(r1.digest())
    expect(r2.size).toBe(r1.size)
  })

  it('differs when the views differ, including by status, and returns when they agree again', () => {
    const r1 = fedByBatches()
    const r2 = fedByBatches()
    expect(r2.digest()).toBe(r1.digest())
    r2.setLiveness('B', 'dead')
    expect(r2.digest()).not.toBe(r1.digest())
    r2.setLiveness('B', 'alive')
    expect(r2.digest()).toBe(r1.digest())
    r2.applyBatch(batch('A', 1, del(5, KEY)))
    expect(r2.digest()).toBe(r1.digest())
    r2.applyBatch(batch('B', 1, del(3, KEY)))
    expect(r2.digest()).not.toBe(r1.digest())
  })

  it("differs when only the owner's liveness differs on a record already CRITICAL (review)", () => {
    const { reg: r1 } = clockedRegistry()
    const { reg: r2 } = clockedRegistry()
    const b = batch('A', 1, put(1, rec('pay', 'p1', { status: 'CRITICAL' })))
    r1.applyBatch(b)
    r2.applyBatch(b)
    r1.setLiveness('A', 'dead')
    expect(r1.get('pay', KEY)?.ownerDead).toBe(true)
    expect(r1.digest()).not.toBe(r2.digest())
    r1.setLiveness('A', 'alive')
    expect(r1.digest()).toBe(r2.digest())
  })

  it('of an empty view is all zeros, and returns there when everything is deleted', () => {
    const { reg } = clockedRegistry()
    expect(reg.digest()).toBe('0'.repeat(32))
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1')), del(2, KEY)))
    expect(reg.digest()).toBe('0'.repeat(32))
  })
})

describe('Registry: owners a peer tells of', () => {
  it('a delta for an owner never heard of changes nothing (not even the vector)', () => {
    const { reg } = clockedRegistry()
    expect(reg.applyDelta({ owner: 'o'.repeat(100), epoch: 9, since: 4, head: 5, entries: [] })).toBe(false)
    expect(reg.owners.size).toBe(0)
    expect(reg.vector()).toEqual([])
  })

  it('at most MAX_OWNERS owners: made-up ones past it are refused, and the resume token stays readable', () => {
    const { reg } = clockedRegistry()
    for (let i = 0; i < MAX_OWNERS + 5; i++) reg.applySnapshot({ owner: `fake${i}`, epoch: 1, seq: 1, floor: { epoch: 1, seq: 0 }, entries: [] })
    expect(reg.owners.size).toBe(MAX_OWNERS)
    expect(reg.applyBatch(batch('late', 1, put(1, rec('web', 'a', { ownerNode: 'late' })))).kind).toBe('stale')
    expect(reg.owners.has('late')).toBe(false)
    expect(decodeVector(encodeVector(reg.vector()))).toHaveLength(MAX_OWNERS)
    // one it holds still applies
    expect(reg.applySnapshot({ owner: 'fake0', epoch: 1, seq: 2, floor: { epoch: 1, seq: 0 }, entries: [] })).toBe(true)
  })
})
