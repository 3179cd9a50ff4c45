import { describe, it, expect } from 'vitest'
import { aliasTable, weightedRandom } from '../../../node/balancer/weighted-random.js'
import { fleet, seeded, tally } from './fixtures.js'

const PICKS = 100_000

describe('aliasTable', () => {
  it.each([
    [[1]],
    [[1, 1, 1, 1]],
    [[1, 2, 3, 4]],
    [[1, 10_000, 7, 250]],
    [[0.5, 3, 9999, 1, 1, 1, 42]]
  ])('weights %j: column probabilities sum back to weight/total exactly', weights => {
    const { prob, alias } = aliasTable(weights)
    const n = weights.length
    const total = weights.reduce((a, b) => a + b, 0)
    const mass = new Array(n).fill(0)
    for (let i = 0; i < n; i++) {
      mass[i] += prob[i] / n
      mass[alias[i]] += (1 - prob[i]) / n
    }
    weights.forEach((w, i) => expect(mass[i]).toBeCloseTo(w / total, 12))
  })
})

describe('weighted_random', () => {
  it.each([
    [[100, 200, 300, 400]],
    [[1, 1, 1, 1, 1]],
    [[1, 3]],
    [[3000, 7000]],
    [[500, 500, 1000, 2000]],
    [[0, 100, 300]]
  ])('weights %j: each share within ±3%% of weight/total over 100k picks', weights => {
    const counts = tally(weightedRandom(fleet(weights.length, i => ({ weight: weights[i] })), seeded()), PICKS)
    const total = weights.reduce((a, b) => a + b, 0)
    weights.forEach((w, i) => {
      const got = counts.get(`i0${i}`) ?? 0
      expect(Math.abs(got - (PICKS * w) / total)).toBeLessThanOrEqual((PICKS * w / total) * 0.03)
    })
  })

  it('never picks weight 0 while a positive weight serves', () => {
    const counts = tally(weightedRandom(fleet(3, i => ({ weight: [0, 1, 0][i] })), seeded()), 1000)
    expect([...counts]).toEqual([['i01', 1000]])
  })

  it('balances over all when every weight is 0', () => {
    const counts = tally(weightedRandom(fleet(4, () => ({ weight: 0 })), seeded()), 40_000)
    expect(counts.size).toBe(4)
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(300)
  })

  it('lists heavier instances earlier in order(), on average', () => {
    const p = weightedRandom(fleet(2, i => ({ weight: [1, 9][i] })), seeded())
    let heavyFirst = 0
    for (let i = 0; i < 2000; i++) if (p.order({}).instances[0].instanceId === 'i01') heavyFirst++
    expect(heavyFirst / 2000).toBeCloseTo(0.9, 1)
  })
})
