import { describe, it, expect } from 'vitest'
import { createStrategyOptions, DEFAULT_STRATEGY_OPTIONS } from '../../../node/balancer/picker.js'
import { candidates, EQUAL_WEIGHT, servableShare, weightedTiers } from '../../../node/balancer/servable.js'
import { InvalidConfigError } from '../../../node/errors.js'
import type { HealthStatus } from '../../../node/registry/types.js'
import { byStatus, ids, inst } from './fixtures.js'

const P: HealthStatus = 'PASSING'
const W: HealthStatus = 'WARNING'
const C: HealthStatus = 'CRITICAL'
const M: HealthStatus = 'MAINTENANCE'

describe('candidates', () => {
  it.each<[string, HealthStatus[], number, string[][], boolean]>([
    ['PASSING tier, then WARNING; CRITICAL out', [P, W, C, P], 0.5, [['s0', 's3'], ['s1']], false],
    ['1 of 4 servable: panic over all', [P, C, C, C], 0.5, [['s0', 's1', 's2', 's3']], true],
    ['panic leaves MAINTENANCE out', [P, C, C, C, M], 0.5, [['s0', 's1', 's2', 's3']], true],
    ['exactly at the threshold is not panic', [P, P, C, C], 0.5, [['s0', 's1']], false],
    ['MAINTENANCE is not in the denominator', [P, M, M, M], 0.5, [['s0']], false],
    ['WARNING counts as servable for panic', [W, W, C, C], 0.5, [['s0', 's1']], false],
    ['nothing servable: panic over the CRITICAL ones', [C, C, M], 0.5, [['s0', 's1']], true],
    ['threshold 0 never panics', [C, C], 0, [], false],
    ['threshold 1 panics on any failure', [P, P, P, C], 1, [['s0', 's1', 's2', 's3']], true],
    ['all MAINTENANCE: nothing', [M, M], 0.5, [], false],
    ['empty: nothing', [], 0.5, [], false]
  ])('%s', (_name, statuses, threshold, tiers, panic) => {
    const c = candidates(byStatus(statuses), threshold)
    expect(c.tiers.map(ids)).toEqual(tiers)
    expect(c.panic).toBe(panic)
  })

  it('sorts each tier by instance id whatever the input order', () => {
    const c = candidates([inst('c'), inst('a'), inst('b')], 0.5)
    expect(ids(c.tiers[0])).toEqual(['a', 'b', 'c'])
  })
})

describe('servableShare', () => {
  it.each<[HealthStatus[], number]>([
    [[P, W, C, C], 0.5],
    [[P, M, M], 1],
    [[C, M], 0],
    [[M], 0],
    [[], 0]
  ])('%j → %d', (statuses, share) => {
    expect(servableShare(byStatus(statuses))).toBe(share)
  })
})

describe('weightedTiers', () => {
  it('puts zero weights after every positive weight, at EQUAL_WEIGHT', () => {
    const tiers = candidates([
      inst('p1', { weight: 300 }), inst('p0', { weight: 0 }), inst('w1', { status: W, weight: 50 }), inst('w0', { status: W, weight: 0 })
    ], 0.5).tiers
    const wt = weightedTiers(tiers)
    expect(wt.map(t => ids(t.members))).toEqual([['p1'], ['w1'], ['p0'], ['w0']])
    expect(wt.map(t => t.weights)).toEqual([[300], [50], [EQUAL_WEIGHT], [EQUAL_WEIGHT]])
  })

  it.each([NaN, -5, Infinity])('counts weight %d as 0', weight => {
    const wt = weightedTiers([[inst('a', { weight }), inst('b')]])
    expect(wt.map(t => ids(t.members))).toEqual([['b'], ['a']])
  })
})

describe('createStrategyOptions', () => {
  it('defaults to Envoy\'s panic threshold 0.5 and locality 0.7', () => {
    expect(createStrategyOptions()).toMatchObject({ panicThreshold: 0.5, localityThreshold: 0.7 })
    expect(DEFAULT_STRATEGY_OPTIONS).toEqual({ panicThreshold: 0.5, localityThreshold: 0.7 })
  })

  it.each<[string, number]>([
    ['panicThreshold', -0.1],
    ['panicThreshold', 1.5],
    ['localityThreshold', NaN],
    ['localityThreshold', 2]
  ])('rejects %s = %d with InvalidConfigError naming it', (field, value) => {
    let err: unknown
    try { createStrategyOptions({ [field]: value }) } catch (e) { err = e }
    expect(err).toBeInstanceOf(InvalidConfigError)
    expect((err as InvalidConfigError).field).toBe(field)
  })
})
