import { describe, it, expect } from 'vitest'
import { MemberTable, overrides } from '../../node/membership/member-table.js'
import type { Member, MemberChange, MemberState } from '../../node/membership/member-table.js'

function member (state: MemberState, incarnation: number, over: Partial<Member> = {}): Member {
  return { id: 'm1', name: 'one', grpcAddress: 'h:1', gossipAddress: 'h:2', state, incarnation, ...over }
}

function table (): { t: MemberTable, clock: { t: number }, changes: MemberChange[] } {
  const clock = { t: 100 }
  const t = new MemberTable(() => clock.t)
  const changes: MemberChange[] = []
  t.subscribe(c => { changes.push(c) })
  return { t, clock, changes }
}

const STATES: MemberState[] = ['ALIVE', 'SUSPECT', 'DEAD', 'LEFT']

describe('overrides', () => {
  it.each(STATES)('anything overrides an unknown member (%s)', s => {
    expect(overrides(member(s, 0), undefined)).toBe(true)
  })

  // [incoming state, incoming incarnation, known state, known incarnation, overrides?]
  it.each([
    ['ALIVE', 2, 'DEAD', 1, true],
    ['ALIVE', 2, 'LEFT', 1, true],
    ['SUSPECT', 5, 'ALIVE', 4, true],
    ['DEAD', 1, 'ALIVE', 2, false],
    ['LEFT', 1, 'ALIVE', 2, false],
    ['ALIVE', 3, 'SUSPECT', 3, false],
    ['SUSPECT', 3, 'ALIVE', 3, true],
    ['DEAD', 3, 'SUSPECT', 3, true],
    ['SUSPECT', 3, 'DEAD', 3, false],
    ['LEFT', 3, 'DEAD', 3, true],
    ['DEAD', 3, 'LEFT', 3, false],
    ['ALIVE', 3, 'ALIVE', 3, false],
    ['DEAD', 3, 'DEAD', 3, false]
  ] as const)('%s@%i over %s@%i → %s', (is, ii, ks, ki, expected) => {
    expect(overrides(member(is, ii), member(ks, ki))).toBe(expected)
  })

  it.each(STATES.flatMap(a => STATES.map(b => [a, b] as const)))('at equal incarnation, %s over %s follows ALIVE < SUSPECT < DEAD < LEFT', (a, b) => {
    expect(overrides(member(a, 1), member(b, 1))).toBe(STATES.indexOf(a) > STATES.indexOf(b))
  })
})

describe('MemberTable', () => {
  it('merges by precedence and reports whether the table changed', () => {
    const { t, changes } = table()
    expect(t.merge(member('ALIVE', 1))).toBe(true)
    expect(t.merge(member('SUSPECT', 1))).toBe(true)
    expect(t.merge(member('ALIVE', 1))).toBe(false)
    expect(t.get('m1')?.state).toBe('SUSPECT')
    expect(t.merge(member('ALIVE', 2))).toBe(true)
    expect(t.get('m1')).toEqual(member('ALIVE', 2))
    expect(changes.map(c => [c.previous?.state, c.member.state])).toEqual([[undefined, 'ALIVE'], ['ALIVE', 'SUSPECT'], ['SUSPECT', 'ALIVE']])
  })

  it('records when a member entered its state, on the local clock', () => {
    const { t, clock } = table()
    expect(t.stateSince('m1')).toBe(0)
    t.merge(member('ALIVE', 1))
    expect(t.stateSince('m1')).toBe(100)
    clock.t = 200
    t.merge(member('ALIVE', 2))
    expect(t.stateSince('m1')).toBe(100)
    expect(t.timeInState('m1')).toBe(100)
    clock.t = 300
    t.merge(member('DEAD', 2))
    expect(t.stateSince('m1')).toBe(300)
    clock.t = 350
    expect(t.timeInState('m1')).toBe(50)
  })

  it('set ignores precedence (local verdicts) and notifies only on a real change', () => {
    const { t, changes } = table()
    t.merge(member('DEAD', 5))
    t.set(member('ALIVE', 1))
    expect(t.get('m1')).toEqual(member('ALIVE', 1))
    expect(changes).toHaveLength(2)
    t.set(member('ALIVE', 1))
    expect(changes).toHaveLength(2)
    t.set(member('ALIVE', 1, { grpcAddress: 'h:9' }))
    expect(changes).toHaveLength(3)
    expect(changes[2].previous?.grpcAddress).toBe('h:1')
  })

  it('all, remove and unsubscribe', () => {
    const { t, changes } = table()
    t.merge(member('ALIVE', 1))
    t.merge(member('ALIVE', 1, { id: 'm2' }))
    expect(t.all().map(m => m.id).sort()).toEqual(['m1', 'm2'])
    t.remove('m1')
    expect(t.get('m1')).toBeUndefined()
    expect(t.stateSince('m1')).toBe(0)
    expect(t.all()).toHaveLength(1)
    const other: MemberChange[] = []
    const off = t.subscribe(c => { other.push(c) })
    off()
    t.merge(member('ALIVE', 1))
    expect(other).toEqual([])
    expect(changes.at(-1)?.previous).toBeUndefined()
  })
})
