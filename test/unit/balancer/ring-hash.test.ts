import { describe, it, expect } from 'vitest'
import { buildRing, MAX_RING_POINTS, ringHash, ringIndex } from '../../../node/balancer/ring-hash.js'
import type { StrategyFactory } from '../../../node/balancer/picker.js'
import { maglev } from '../../../node/balancer/maglev.js'
import type { InstanceRecord } from '../../../node/registry/types.js'
import { fleet, ids, inst, seeded, tally } from './fixtures.js'

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`)

function mapping (factory: StrategyFactory, instances: readonly InstanceRecord[], seed = 1): string[] {
  const p = factory(instances, seeded({}, seed))
  return KEYS.map(hashKey => p.pick({ hashKey })?.instance.instanceId ?? '')
}

// relative spread of key shares: a ring with 100 points per instance has σ ≈ 1/√100 = 10%; maglev's table is near-exact
describe.each<[string, StrategyFactory, number]>([['ring_hash', ringHash, 0.35], ['maglev', maglev, 0.03]])('%s consistency', (_name, factory, spread) => {
  it.each([5, 10, 20])('removing any one of %d instances moves at most 1/n + 5%% of 10k keys', n => {
    const all = fleet(n)
    const before = mapping(factory, all)
    for (const gone of all) {
      const after = mapping(factory, all.filter(r => r !== gone))
      let moved = 0
      for (let k = 0; k < KEYS.length; k++) if (before[k] !== after[k]) moved++
      expect(moved / KEYS.length).toBeLessThanOrEqual(1 / n + 0.05)
    }
  })

  it('maps every key the same way in rebuilt pickers (other seeds, other input order)', () => {
    const all = fleet(10)
    expect(mapping(factory, [...all].reverse(), 99)).toEqual(mapping(factory, all, 1))
  })

  it('spreads keys over 10 instances, each within its relative spread of 10%', () => {
    const counts = new Map<string, number>()
    for (const id of mapping(factory, fleet(10))) counts.set(id, (counts.get(id) ?? 0) + 1)
    expect(counts.size).toBe(10)
    // 10k keys add a binomial ±3% (1σ) on top of the structure's own spread
    for (const c of counts.values()) expect(Math.abs(c / KEYS.length - 0.1)).toBeLessThan(0.1 * (spread + 0.09))
  })

  it('gives key shares by weight: 100 vs 300 is 25% ± 5%', () => {
    const ids2 = mapping(factory, fleet(2, i => ({ weight: [100, 300][i] })))
    expect(Math.abs(ids2.filter(id => id === 'i00').length / KEYS.length - 0.25)).toBeLessThan(0.05)
  })

  it.each([undefined, ''])('spreads requests with hashKey %j at random', hashKey => {
    const counts = tally(factory(fleet(4), seeded()), 4000, { hashKey })
    expect(counts.size).toBe(4)
    for (const c of counts.values()) expect(c).toBeGreaterThan(600)
  })

  it('order walks from the key: head is the picked instance, every instance once', () => {
    const p = factory(fleet(8), seeded())
    for (const hashKey of KEYS.slice(0, 50)) {
      const order = p.order({ hashKey }).instances
      expect(order[0]).toBe(p.pick({ hashKey })?.instance)
      expect(ids(order).sort()).toEqual(ids(fleet(8)))
    }
  })

  it('moves a key off an instance that turns WARNING, and only those keys', () => {
    const all = fleet(6)
    const before = mapping(factory, all)
    const warned = all.map(r => (r.instanceId === 'i03' ? { ...r, status: 'WARNING' as const } : r))
    const after = mapping(factory, warned)
    for (let k = 0; k < KEYS.length; k++) {
      expect(after[k]).not.toBe('i03')
      if (before[k] !== 'i03' && factory === ringHash) expect(after[k]).toBe(before[k])
    }
  })
})

describe('buildRing', () => {
  it.each<[number[], number[]]>([
    [[100, 100], [100, 100]],
    [[1, 250], [1, 250]],
    [[10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000], Array(7).fill(Math.round(10_000 * MAX_RING_POINTS / 70_000))]
  ])('weights %j → points %j (weight points, scaled down past MAX_RING_POINTS)', (weights, points) => {
    const members = weights.map((w, i) => inst(`r${i}`, { weight: w }))
    const ring = buildRing({ members, weights })
    const counts = new Array(weights.length).fill(0)
    for (const o of ring.owners) counts[o]++
    expect(counts).toEqual(points)
    for (let k = 1; k < ring.hashes.length; k++) expect(ring.hashes[k]).toBeGreaterThanOrEqual(ring.hashes[k - 1])
  })

  it.each<[number, number]>([[0, 0], [5, 0], [6, 1], [10, 1], [11, 2], [30, 2], [31, 0], [4294967295, 0]])('ringIndex of %d in [5, 10, 30] is %d (wrapping)', (h, idx) => {
    expect(ringIndex(Uint32Array.from([5, 10, 30]), h)).toBe(idx)
  })
})
