import { describe, it, expect } from 'vitest'
import { weightedRoundRobin } from '../../../node/balancer/weighted-round-robin.js'
import { fleet, seeded, tally } from './fixtures.js'

const PICKS = 100_000

describe('weighted_round_robin', () => {
  it.each([
    [[1, 2, 3, 4]],
    [[100, 100, 100]],
    [[5, 1, 1]],
    [[1, 10_000]],
    [[250, 250, 500, 1000, 2000, 7]],
    [[0, 100, 300]]
  ])('weights %j: each share within ±3%% of weight/total over 100k picks', weights => {
    const counts = tally(weightedRoundRobin(fleet(weights.length, i => ({ weight: weights[i] })), seeded()), PICKS)
    const total = weights.reduce((a, b) => a + b, 0)
    weights.forEach((w, i) => {
      const got = counts.get(`i0${i}`) ?? 0
      const want = (PICKS * w) / total
      // smooth WRR is exact to within one pick per instance, far inside 3%
      expect(Math.abs(got - want)).toBeLessThanOrEqual(Math.max(1, want * 0.03))
    })
  })

  it.each([
    [[5, 1, 1]],
    [[3, 2]],
    [[7, 3, 1, 1]]
  ])('weights %j: every period of Σweight picks holds each instance exactly weight times', weights => {
    const total = weights.reduce((a, b) => a + b, 0)
    const p = weightedRoundRobin(fleet(weights.length, i => ({ weight: weights[i] })), seeded())
    for (let period = 0; period < 5; period++) {
      const counts = tally(p, total)
      weights.forEach((w, i) => expect(counts.get(`i0${i}`) ?? 0).toBe(w))
    }
  })

  it('is smooth: weights {5, 1, 1} give nginx\'s a a b a c a a (from a zero start)', () => {
    const p = weightedRoundRobin(fleet(3, i => ({ weight: [5, 1, 1][i] })), seeded({ random: { next: () => 0 } }))
    const seq = Array.from({ length: 14 }, () => p.pick({})?.instance.instanceId).join(' ')
    expect(seq).toBe('i00 i00 i01 i00 i02 i00 i00 i00 i00 i01 i00 i02 i00 i00')
  })

  it('never picks weight 0 while a positive weight serves', () => {
    const counts = tally(weightedRoundRobin(fleet(3, i => ({ weight: [0, 1, 0][i] })), seeded()), 1000)
    expect([...counts]).toEqual([['i01', 1000]])
  })

  it('balances evenly when every weight is 0', () => {
    const counts = tally(weightedRoundRobin(fleet(4, () => ({ weight: 0 })), seeded()), 1000)
    expect([...counts.values()]).toEqual([250, 250, 250, 250])
  })
})
