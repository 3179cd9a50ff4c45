import { describe, it, expect } from 'vitest'
import { roundRobin } from '../../../node/balancer/round-robin.js'
import { fleet, ids, inst, seeded, tally } from './fixtures.js'

describe('round_robin', () => {
  it.each([1, 2, 4, 5, 8, 20, 100])('picks each of %d instances exactly 100000/n times', n => {
    const counts = tally(roundRobin(fleet(n), seeded()), 100_000)
    expect(counts.size).toBe(n)
    for (const c of counts.values()) expect(c).toBe(100_000 / n)
  })

  it.each([1, 2, 3, 17])('rotates in instance-id order from a random start (seed %d)', seed => {
    const p = roundRobin([inst('c'), inst('a'), inst('d'), inst('b')], seeded({}, seed))
    const seq = Array.from({ length: 12 }, () => p.pick({})?.instance.instanceId)
    const start = ['a', 'b', 'c', 'd'].indexOf(seq[0] as string)
    expect(seq).toEqual(Array.from({ length: 12 }, (_, i) => ['a', 'b', 'c', 'd'][(start + i) % 4]))
  })

  it('starts at different instances for different seeds (no herd on the first)', () => {
    const firsts = new Set(Array.from({ length: 20 }, (_, s) => roundRobin(fleet(4), seeded({}, s)).pick({})?.instance.instanceId))
    expect(firsts.size).toBeGreaterThan(1)
  })

  it('ignores weights', () => {
    const counts = tally(roundRobin([inst('a', { weight: 1 }), inst('b', { weight: 10_000 })], seeded()), 1000)
    expect([counts.get('a'), counts.get('b')]).toEqual([500, 500])
  })

  it('order rotates PASSING from the next pick, then WARNING, and moves on by one', () => {
    const p = roundRobin([inst('a'), inst('b'), inst('c'), inst('w1', { status: 'WARNING' }), inst('w2', { status: 'WARNING' })], seeded())
    const first = ids(p.order({}).instances)
    const second = ids(p.order({}).instances)
    expect(first.slice(0, 3).sort()).toEqual(['a', 'b', 'c'])
    expect(first.slice(3).sort()).toEqual(['w1', 'w2'])
    const abc = ['a', 'b', 'c']
    expect(second[0]).toBe(abc[(abc.indexOf(first[0]) + 1) % 3])
    expect(p.pick({})?.instance.instanceId).toBe(abc[(abc.indexOf(first[0]) + 2) % 3])
  })
})
