import { describe, it, expect } from 'vitest'
import type { DiscoverQuery, PickQuery } from '../../node/api/validation.js'
import { PickerCache } from '../../node/balancer/picker-cache.js'
import { createStrategyOptions } from '../../node/balancer/picker.js'
import { seededRandom } from '../../node/membership/clock.js'
import { Discovery, matches } from '../../node/registry/discovery.js'
import type { Registry } from '../../node/registry/registry.js'
import { batch, clockedRegistry, del, put, rec } from './registry-fixtures.js'

const RR = { strategy: 'round_robin', hashKey: '', clientZone: '' }

function query (over: Partial<DiscoverQuery> = {}): DiscoverQuery {
  return { service: 'pay', tags: [], metadata: {}, zone: '', includeUnhealthy: false, limit: 0, balance: RR, ...over }
}

function pickQuery (over: Partial<PickQuery> = {}): PickQuery {
  return { service: 'pay', tags: [], metadata: {}, balance: RR, ...over }
}

/** pay/p1..p4 at owner A; p3 is CRITICAL, p4 WARNING. */
function fill (): Registry {
  const { reg } = clockedRegistry()
  reg.applyBatch(batch('A', 1,
    put(1, rec('pay', 'p2', { tags: ['blue'], zone: 'z1' })),
    put(2, rec('pay', 'p1', { tags: ['blue', 'canary'], metadata: { region: 'eu' } })),
    put(3, rec('pay', 'p4', { zone: 'z2', status: 'WARNING' })),
    put(4, rec('pay', 'p3', { status: 'CRITICAL' })),
    put(5, rec('cart', 'c1'))
  ))
  return reg
}

function discovery (reg: Registry, seed = 1): Discovery {
  return new Discovery(reg, new PickerCache(createStrategyOptions({ random: seededRandom(seed) })))
}

const ids = (rs: Array<{ instanceId: string }>): string[] => rs.map(r => r.instanceId)
const list = (d: Discovery, q: DiscoverQuery): string[] => ids(d.discover(q).instances)

describe('matches', () => {
  const r = rec('pay', 'p1', { tags: ['blue', 'canary'], metadata: { region: 'eu', tier: 'gold' }, zone: 'z1' })
  it.each([
    ['empty query', [], {}, '', true],
    ['one tag present', ['canary'], {}, '', true],
    ['every tag required', ['blue', 'green'], {}, '', false],
    ['metadata subset', [], { region: 'eu' }, '', true],
    ['metadata value differs', [], { region: 'us' }, '', false],
    ['metadata key missing', [], { rack: '1' }, '', false],
    ['zone equal', [], {}, 'z1', true],
    ['zone differs', [], {}, 'z2', false]
  ])('%s → %s', (_n, tags, metadata, zone, expected) => {
    expect(matches(r, tags, metadata, zone)).toBe(expected)
  })
})

describe('Discovery.discover', () => {
  it('answers the served instances, PASSING before WARNING, rotating round robin across calls', () => {
    const d = discovery(fill())
    const first = list(d, query())
    expect(first).toHaveLength(3)
    expect(first[2]).toBe('p4')
    expect(new Set(first)).toEqual(new Set(['p1', 'p2', 'p4']))
    const second = list(d, query())
    // the PASSING tier rotates by one; WARNING stays behind it
    expect(second).toEqual([first[1], first[0], 'p4'])
  })

  it('appends unhealthy instances on request, and applies the limit last', () => {
    const d = discovery(fill())
    const all = list(d, query({ includeUnhealthy: true }))
    expect(all.slice(-1)).toEqual(['p3'])
    expect(new Set(all)).toEqual(new Set(['p1', 'p2', 'p3', 'p4']))
    expect(list(d, query({ limit: 2 }))).toHaveLength(2)
    expect(list(d, query({ limit: 10 }))).toHaveLength(3)
  })

  it('filters by tags, metadata and zone', () => {
    const d = discovery(fill())
    expect(new Set(list(d, query({ tags: ['blue'] })))).toEqual(new Set(['p1', 'p2']))
    expect(list(d, query({ metadata: { region: 'eu' } }))).toEqual(['p1'])
    expect(list(d, query({ zone: 'z2' }))).toEqual(['p4'])
  })

  it("keeps filters apart whatever their tags hold: ['a', 'b'] and ['a,b'] are two", () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'x', { tags: ['a', 'b'] })), put(2, rec('pay', 'y', { tags: ['a,b'] }))))
    const d = discovery(reg)
    expect(list(d, query({ tags: ['a', 'b'] }))).toEqual(['x'])
    expect(list(d, query({ tags: ['a,b'] }))).toEqual(['y'])
  })

  it('answers [] for an unknown service or no match', () => {
    const d = discovery(fill())
    expect(d.discover(query({ service: 'nope' }))).toEqual({ instances: [], panic: false })
    expect(list(d, query({ tags: ['purple'] }))).toEqual([])
  })

  it('follows view changes', () => {
    const reg = fill()
    const d = discovery(reg)
    expect(list(d, query({ service: 'cart' }))).toEqual(['c1'])
    reg.applyBatch(batch('A', 1, put(6, rec('cart', 'c0')), del(7, 'cart/c1')))
    expect(list(d, query({ service: 'cart' }))).toEqual(['c0'])
  })

  it('says panic and serves the unhealthy too when fewer than half are healthy', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1,
      put(1, rec('svc', 'a')), put(2, rec('svc', 'b', { status: 'CRITICAL' })), put(3, rec('svc', 'c', { status: 'CRITICAL' }))))
    const answer = discovery(reg).discover(query({ service: 'svc' }))
    expect(answer.panic).toBe(true)
    expect(new Set(ids(answer.instances))).toEqual(new Set(['a', 'b', 'c']))
  })

  it("never brings a DEAD owner's records back in a panicked answer: they leave the panic count too", () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('svc', 'a'))))
    reg.applyBatch(batch('B', 1, put(1, rec('svc', 'b1', { ownerNode: 'B' })), put(2, rec('svc', 'b2', { ownerNode: 'B' })), put(3, rec('svc', 'b3', { ownerNode: 'B' }))))
    reg.setLiveness('B', 'dead')
    const answer = discovery(reg).discover(query({ service: 'svc' }))
    expect(answer).toEqual({ instances: [reg.get('svc', 'svc/a')], panic: false })
  })

  it("excludes a DEAD owner's records (shown CRITICAL) unless unhealthy ones are asked for", () => {
    const reg = fill()
    reg.applyBatch(batch('B', 1, put(1, rec('pay', 'p9', { ownerNode: 'B' }))))
    const d = discovery(reg)
    expect(list(d, query({ includeUnhealthy: true }))).toContain('p9')
    reg.setLiveness('B', 'dead')
    expect(list(d, query())).not.toContain('p9')
    const all = d.discover(query({ includeUnhealthy: true })).instances
    expect(all.find(r => r.instanceId === 'p9')?.status).toBe('CRITICAL')
    reg.setLiveness('B', 'gone')
    expect(list(d, query({ includeUnhealthy: true }))).not.toContain('p9')
  })
})

describe('Discovery.pick', () => {
  it('picks by the strategy and counts picks per instance', () => {
    const reg = fill()
    const cache = new PickerCache(createStrategyOptions({ random: seededRandom(3) }))
    const d = new Discovery(reg, cache)
    const seen = new Map<string, number>()
    for (let i = 0; i < 100; i++) {
      const id = d.pick(pickQuery())!.instance.instanceId
      seen.set(id, (seen.get(id) ?? 0) + 1)
    }
    // round robin over the PASSING tier only
    expect(seen).toEqual(new Map([['p1', 50], ['p2', 50]]))
    expect(cache.statsOf('pay')).toEqual([{ instance_id: 'p1', picks: 50 }, { instance_id: 'p2', picks: 50 }])
  })

  it('answers undefined when nothing can serve', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('svc', 'm', { status: 'MAINTENANCE' }))))
    expect(discovery(reg).pick(pickQuery({ service: 'svc' }))).toBeUndefined()
  })
})
