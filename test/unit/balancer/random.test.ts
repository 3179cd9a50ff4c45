import { describe, it, expect } from 'vitest'
import { uniformRandom } from '../../../node/balancer/random.js'
import { fleet, seeded, tally } from './fixtures.js'

describe('random', () => {
  it.each([2, 5, 10])('spreads 100k picks over %d instances within ±3%% each, ignoring weights', n => {
    const counts = tally(uniformRandom(fleet(n, i => ({ weight: i === 0 ? 10_000 : 1 })), seeded()), 100_000)
    expect(counts.size).toBe(n)
    for (const c of counts.values()) expect(Math.abs(c - 100_000 / n)).toBeLessThan((100_000 / n) * 0.03)
  })

  it('does not rotate: consecutive picks repeat sometimes', () => {
    const p = uniformRandom(fleet(3), seeded())
    let repeats = 0
    let last = ''
    for (let i = 0; i < 3000; i++) {
      const id = p.pick({})?.instance.instanceId ?? ''
      if (id === last) repeats++
      last = id
    }
    // 1/3 of consecutive pairs repeat for independent uniform picks
    expect(repeats / 3000).toBeCloseTo(1 / 3, 1)
  })
})
