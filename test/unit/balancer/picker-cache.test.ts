import { describe, it, expect } from 'vitest'
import { PickerCache } from '../../../node/balancer/picker-cache.js'
import { InvalidArgumentError } from '../../../node/errors.js'
import type { InstanceRecord } from '../../../node/registry/types.js'
import { fleet, inst, seeded } from './fixtures.js'

function source (list: InstanceRecord[]): { calls: number, fn: () => readonly InstanceRecord[] } {
  const s = { calls: 0, fn: () => { s.calls++; return list } }
  return s
}

describe('PickerCache', () => {
  it('returns the same picker while the version holds, without reading the instances', () => {
    const cache = new PickerCache(seeded())
    const src = source(fleet(3))
    const p = cache.get('svc', 'round_robin', 1, src.fn)
    expect(cache.get('svc', 'round_robin', 1, src.fn)).toBe(p)
    expect(src.calls).toBe(1)
  })

  it('keeps the picker and its rotation when the version moved but the records did not', () => {
    const cache = new PickerCache(seeded())
    const list = fleet(4)
    const p = cache.get('svc', 'round_robin', 1, () => list)
    const first = p.pick({})?.instance.instanceId
    const q = cache.get('svc', 'round_robin', 2, () => [...list])
    expect(q).toBe(p)
    expect(q.pick({})?.instance.instanceId).not.toBe(first)
  })

  it('rebuilds when a record changed', () => {
    const cache = new PickerCache(seeded())
    const list = fleet(2)
    const p = cache.get('svc', 'round_robin', 1, () => list)
    const changed = [list[0], { ...list[1], status: 'MAINTENANCE' as const }]
    const q = cache.get('svc', 'round_robin', 2, () => changed)
    expect(q).not.toBe(p)
    for (let i = 0; i < 4; i++) expect(q.pick({})?.instance.instanceId).toBe('i00')
  })

  it('keeps one picker per service and strategy', () => {
    const cache = new PickerCache(seeded())
    const a = cache.get('a', 'round_robin', 1, () => [inst('x', { service: 'a' })])
    const b = cache.get('b', 'round_robin', 1, () => [inst('y', { service: 'b' })])
    const ar = cache.get('a', 'random', 1, () => [inst('x', { service: 'a' })])
    expect(new Set([a, b, ar]).size).toBe(3)
    expect(b.pick({})?.instance.instanceId).toBe('y')
  })

  it('keeps at most maxFilters filters, dropping the one cached longest ago', () => {
    const cache = new PickerCache(seeded(), 3)
    const list = fleet(2)
    const first = cache.get('f0', 'round_robin', 1, () => list)
    for (let i = 1; i < 10; i++) cache.get(`f${i}`, 'round_robin', 1, () => list)
    expect(cache.size).toBe(3)
    // the newest stayed cached; the oldest was rebuilt
    const src = source(list)
    cache.get('f9', 'round_robin', 1, src.fn)
    expect(src.calls).toBe(0)
    expect(cache.get('f0', 'round_robin', 1, () => list)).not.toBe(first)
  })

  it('evicts by second chance: a filter asked for again outlives one-off filters cached after it', () => {
    const cache = new PickerCache(seeded(), 3)
    const list = fleet(2)
    const hot = cache.get('hot', 'round_robin', 1, () => list)
    for (let i = 0; i < 10; i++) {
      cache.get(`once${i}`, 'round_robin', 1, () => list)
      // the hot filter in steady use: a hit, never a rebuild
      expect(cache.get('hot', 'round_robin', 1, () => { throw new Error('rebuilt') })).toBe(hot)
    }
    expect(cache.size).toBe(3)
    const src = source(list)
    cache.get('once0', 'round_robin', 1, src.fn)
    expect(src.calls).toBe(1)
  })

  it('throws InvalidArgumentError for an unknown strategy', () => {
    expect(() => new PickerCache(seeded()).get('svc', 'bogus', 1, () => fleet(1))).toThrow(InvalidArgumentError)
  })

  it('counts picks per instance per service, sorted by instance id', () => {
    const cache = new PickerCache(seeded())
    for (const id of ['b', 'a', 'b', 'c', 'b']) cache.recordPick('svc', id)
    cache.recordPick('other', 'a')
    expect(cache.statsOf('svc')).toEqual([
      { instance_id: 'a', picks: 1 }, { instance_id: 'b', picks: 3 }, { instance_id: 'c', picks: 1 }
    ])
    expect(cache.statsOf('other')).toEqual([{ instance_id: 'a', picks: 1 }])
    expect(cache.statsOf('none')).toEqual([])
  })
})
