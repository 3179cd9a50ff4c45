import { describe, it, expect } from 'vitest'
import { buildPicker, isStrategy, STRATEGIES } from '../../../node/balancer/registry.js'
import { InvalidArgumentError } from '../../../node/errors.js'
import { fleet, seeded } from './fixtures.js'

describe('strategy registry', () => {
  it('names every strategy', () => {
    expect([...STRATEGIES.keys()].sort()).toEqual([
      'least_request', 'locality', 'maglev', 'random', 'ring_hash', 'round_robin', 'weighted_random', 'weighted_round_robin'
    ])
  })

  it.each<[string, boolean]>([
    ['round_robin', true], ['ring_hash', true], ['maglev', true], ['ROUND_ROBIN', false], ['', false], ['pick_first', false], ['constructor', false]
  ])('isStrategy(%j) is %s', (name, known) => {
    expect(isStrategy(name)).toBe(known)
  })

  it('buildPicker builds the named strategy', () => {
    expect(buildPicker('round_robin', fleet(3), seeded()).pick({})?.instance.service).toBe('svc')
  })

  it('buildPicker throws InvalidArgumentError naming the strategy field', () => {
    let err: unknown
    try { buildPicker('nope', fleet(3), seeded()) } catch (e) { err = e }
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('strategy')
  })
})
