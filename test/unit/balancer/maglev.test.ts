import { describe, it, expect } from 'vitest'
import { buildMaglevTable, MAGLEV_TABLE_SIZE } from '../../../node/balancer/maglev.js'
import { fleet } from './fixtures.js'

describe('buildMaglevTable', () => {
  it.each([
    [[100, 100, 100]],
    [[100, 200, 300, 400]],
    [[1, 10_000]],
    [[7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]]
  ])('weights %j: fills every slot, each instance within ±3%% of its weight share', weights => {
    const members = fleet(weights.length)
    const table = buildMaglevTable({ members, weights })
    expect(table.length).toBe(MAGLEV_TABLE_SIZE)
    const slots = new Array(weights.length).fill(0)
    for (const o of table) slots[o]++
    expect(slots.reduce((a, b) => a + b, 0)).toBe(MAGLEV_TABLE_SIZE)
    const total = weights.reduce((a, b) => a + b, 0)
    weights.forEach((w, i) => {
      const want = (MAGLEV_TABLE_SIZE * w) / total
      expect(Math.abs(slots[i] - want)).toBeLessThanOrEqual(Math.max(2, want * 0.03))
    })
  })

  it('fills a small prime table exactly round-robin by turns', () => {
    const table = buildMaglevTable({ members: fleet(3), weights: [1, 1, 1] }, 7)
    const slots = [0, 0, 0]
    for (const o of table) slots[o]++
    expect(slots.sort()).toEqual([2, 2, 3])
  })
})
