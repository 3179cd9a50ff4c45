import { describe, it, expect } from 'vitest'
import { leastRequest } from '../../../node/balancer/least-request.js'
import type { InstanceRecord } from '../../../node/registry/types.js'
import { fleet, ids, seeded, tally } from './fixtures.js'

const PICKS = 100_000

/** The exact P2C share with replacement, by enumerating all n² equally likely draws (ties split evenly). */
function p2cShares (loads: number[]): number[] {
  const n = loads.length
  const share = new Array(n).fill(0)
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (loads[a] < loads[b]) share[a] += 1
      else if (loads[b] < loads[a]) share[b] += 1
      else { share[a] += 0.5; share[b] += 0.5 }
    }
  }
  return share.map(s => s / (n * n))
}

describe('least_request', () => {
  it.each<[number[], number[]]>([
    [[0, 10], [3 / 4, 1 / 4]],
    [[0, 1, 2, 3], [7 / 16, 5 / 16, 3 / 16, 1 / 16]],
    [[0, 0, 10], [4 / 9, 4 / 9, 1 / 9]],
    [[5, 5, 5, 5], [1 / 4, 1 / 4, 1 / 4, 1 / 4]],
    [[9, 3, 6], [1 / 9, 5 / 9, 3 / 9]]
  ])('loads %j: shares match the exact P2C expectation %j within ±1%%', (loads, expected) => {
    expect(p2cShares(loads).map(x => x.toFixed(12))).toEqual(expected.map(x => x.toFixed(12)))
    const instances = fleet(loads.length)
    const load = new Map(instances.map((r, i) => [r, loads[i]]))
    const counts = tally(leastRequest(instances, seeded({ loadOf: r => load.get(r) ?? 0 })), PICKS)
    expected.forEach((share, i) => expect(Math.abs((counts.get(`i0${i}`) ?? 0) / PICKS - share)).toBeLessThan(0.01))
  })

  it('with loads 0 and 10 the loaded instance gets under 30% of picks', () => {
    const instances = fleet(2)
    const counts = tally(leastRequest(instances, seeded({ loadOf: r => (r === instances[1] ? 10 : 0) })), PICKS)
    expect((counts.get('i01') ?? 0) / PICKS).toBeLessThan(0.3)
  })

  it('reads loads at pick time, not at build', () => {
    const instances = fleet(2)
    const load = new Map<InstanceRecord, number>([[instances[0], 0], [instances[1], 10]])
    const p = leastRequest(instances, seeded({ loadOf: r => load.get(r) ?? 0 }))
    const before = tally(p, 10_000)
    load.set(instances[0], 20)
    const after = tally(p, 10_000)
    expect((before.get('i00') ?? 0)).toBeGreaterThan(7000)
    expect((after.get('i00') ?? 0)).toBeLessThan(3000)
  })

  it('order lists the rest by ascending load', () => {
    const instances = fleet(4)
    const loads = [30, 10, 0, 20]
    const p = leastRequest(instances, seeded({ loadOf: r => loads[instances.indexOf(r)] }))
    const order = ids(p.order({}).instances)
    const rest = order.slice(1)
    expect(rest).toEqual(['i02', 'i01', 'i03', 'i00'].filter(id => id !== order[0]))
  })
})
