import { describe, it, expect } from 'vitest'
import { BroadcastQueue, type Update } from '../../node/membership/broadcast-queue.js'
import type { Member, MemberState } from '../../node/membership/member-table.js'

function member (id: string, incarnation = 0, state: MemberState = 'ALIVE'): Member {
  return { id, name: id, grpcAddress: `${id}:1`, gossipAddress: `${id}:2`, state, incarnation }
}

const up = (id: string, incarnation = 0, state: MemberState = 'ALIVE', from?: string): Update =>
  from == null ? { member: member(id, incarnation, state) } : { member: member(id, incarnation, state), from }

const ids = (us: Update[]): string[] => us.map(u => u.member.id)

describe('BroadcastQueue.limit', () => {
  // retransmitMult × ceil(log10(n + 1)); the first three rows are memberlist's TestRetransmitLimit
  it.each([
    { mult: 3, n: 0, limit: 0 },
    { mult: 3, n: 1, limit: 3 },
    { mult: 3, n: 99, limit: 6 },
    { mult: 4, n: 1, limit: 4 },
    { mult: 4, n: 9, limit: 4 },
    { mult: 4, n: 10, limit: 8 },
    { mult: 4, n: 99, limit: 8 },
    { mult: 4, n: 100, limit: 12 },
    { mult: 4, n: 999, limit: 12 },
    { mult: 4, n: 1000, limit: 16 },
    { mult: 1, n: 5, limit: 1 },
    { mult: 0, n: 50, limit: 0 }
  ])('mult=$mult n=$n → $limit', ({ mult, n, limit }) => {
    expect(BroadcastQueue.limit(mult, n)).toBe(limit)
  })
})

describe('BroadcastQueue', () => {
  it('is empty at first', () => {
    const q = new BroadcastQueue(4)
    expect(q.size).toBe(0)
    expect(q.take(10, 5)).toEqual([])
  })

  it('sends the newest first among equally sent updates', () => {
    const q = new BroadcastQueue(4)
    q.push(up('a'))
    q.push(up('b'))
    q.push(up('c'))
    expect(ids(q.take(3, 5))).toEqual(['c', 'b', 'a'])
  })

  it('sends the fewest-sent first, then the newest', () => {
    const q = new BroadcastQueue(4)
    q.push(up('a'))
    q.push(up('b'))
    q.push(up('c'))
    expect(ids(q.take(2, 5))).toEqual(['c', 'b']) // c, b sent once; a never
    q.push(up('d'))
    expect(ids(q.take(4, 5))).toEqual(['d', 'a', 'c', 'b'])
    expect(ids(q.take(1, 5))).toEqual(['d']) // d and a at 1: d is newer
    expect(ids(q.take(3, 5))).toEqual(['a', 'd', 'c'])
  })

  it('takes at most max updates per message', () => {
    const q = new BroadcastQueue(4)
    for (const id of ['a', 'b', 'c', 'd', 'e']) q.push(up(id))
    expect(q.take(2, 5)).toHaveLength(2)
    expect(q.take(0, 5)).toEqual([])
    expect(q.take(10, 5)).toHaveLength(5)
    expect(q.size).toBe(5)
  })

  it('replaces an older update about the same member', () => {
    const q = new BroadcastQueue(4)
    q.push(up('a', 1, 'ALIVE'))
    q.push(up('b'))
    q.push(up('a', 1, 'SUSPECT', 'b'))
    expect(q.size).toBe(2)
    const got = q.take(10, 5)
    expect(got).toEqual([up('a', 1, 'SUSPECT', 'b'), up('b')])
  })

  it('restarts the count of a replaced update', () => {
    const q = new BroadcastQueue(2) // limit 2 for n ≤ 9
    q.push(up('a', 1))
    q.push(up('b'))
    expect(ids(q.take(1, 5))).toEqual(['b'])
    expect(q.take(1, 5)).toEqual([up('a', 1)]) // a and b each sent once
    q.push(up('a', 2))
    expect(q.take(5, 5)).toEqual([up('a', 2), up('b')]) // the new a is unsent: first
    expect(q.size).toBe(1) // b reached its limit
    expect(q.take(5, 5)).toEqual([up('a', 2)])
    expect(q.size).toBe(0)
  })

  it.each([
    { mult: 2, n: 1, limit: 2 },
    { mult: 4, n: 5, limit: 4 },
    { mult: 4, n: 10, limit: 8 },
    { mult: 3, n: 0, limit: 1 } // a limit of 0 still sends once: the count is checked after sending
  ])('drops an update after its limit: mult=$mult n=$n → sent $limit times', ({ mult, n, limit }) => {
    const q = new BroadcastQueue(mult)
    q.push(up('a'))
    let sent = 0
    for (let i = 0; i < limit + 5; i++) sent += q.take(10, n).length
    expect(sent).toBe(limit)
    expect(q.size).toBe(0)
  })

  it('uses the cluster size given at each take', () => {
    const q = new BroadcastQueue(4)
    q.push(up('a'))
    for (let i = 0; i < 4; i++) q.take(1, 20) // limit 8 at n=20
    expect(q.size).toBe(1)
    q.take(1, 3) // limit 4 at n=3: the fifth send is past it
    expect(q.size).toBe(0)
  })

  it('keeps other updates while one is dropped', () => {
    const q = new BroadcastQueue(1) // limit 1
    q.push(up('a'))
    q.push(up('b'))
    expect(ids(q.take(1, 2))).toEqual(['b'])
    expect(q.size).toBe(1)
    expect(ids(q.take(1, 2))).toEqual(['a'])
    expect(q.size).toBe(0)
  })
})
