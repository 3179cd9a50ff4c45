import { describe, it, expect } from 'vitest'
import type { DiscoverQuery } from '../../node/api/validation.js'
import { Discovery, matches } from '../../node/registry/discovery.js'
import type { Registry } from '../../node/registry/registry.js'
import { batch, clockedRegistry, del, put, rec } from './registry-fixtures.js'

function query (over: Partial<DiscoverQuery> = {}): DiscoverQuery {
  return { service: 'pay', tags: [], metadata: {}, zone: '', includeUnhealthy: false, limit: 0, ...over }
}

/** pay/p1..p4 at owner A; p3 is CRITICAL. */
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

const ids = (rs: Array<{ instanceId: string }>): string[] => rs.map(r => r.instanceId)

describe('matches', () => {
  const r = rec('pay', 'p1', { tags: ['blue', 'canary'], metadata: { region: 'eu', tier: 'gold' }, zone: 'z1' })
  it.each([
    ['empty query', {}, true],
    ['one tag present', { tags: ['canary'] }, true],
    ['every tag required', { tags: ['blue', 'green'] }, false],
    ['metadata subset', { metadata: { region: 'eu' } }, true],
    ['metadata value differs', { metadata: { region: 'us' } }, false],
    ['metadata key missing', { metadata: { rack: '1' } }, false],
    ['zone equal', { zone: 'z1' }, true],
    ['zone differs', { zone: 'z2' }, false]
  ])('%s → %s', (_n, q, expected) => {
    expect(matches(r, query(q))).toBe(expected)
  })

  it.each([
    ['PASSING', false, true],
    ['WARNING', false, true],
    ['CRITICAL', false, false],
    ['MAINTENANCE', false, false],
    ['CRITICAL', true, true],
    ['MAINTENANCE', true, true]
  ] as const)('status %s, includeUnhealthy %s → %s', (status, includeUnhealthy, expected) => {
    expect(matches(rec('pay', 'p1', { status }), query({ includeUnhealthy }))).toBe(expected)
  })
})

describe('Discovery.discover', () => {
  it('answers healthy instances sorted by instance id, rotating one position per call', () => {
    const d = new Discovery(fill())
    expect(ids(d.discover(query()))).toEqual(['p1', 'p2', 'p4'])
    expect(ids(d.discover(query()))).toEqual(['p2', 'p4', 'p1'])
    expect(ids(d.discover(query()))).toEqual(['p4', 'p1', 'p2'])
    expect(ids(d.discover(query()))).toEqual(['p1', 'p2', 'p4'])
  })

  it('includes unhealthy instances on request, and applies the limit after rotation', () => {
    const d = new Discovery(fill())
    expect(ids(d.discover(query({ includeUnhealthy: true })))).toEqual(['p1', 'p2', 'p3', 'p4'])
    expect(ids(d.discover(query({ limit: 2 })))).toEqual(['p2', 'p4'])
    expect(ids(d.discover(query({ limit: 10 })))).toHaveLength(3)
  })

  it('filters by tags, metadata and zone', () => {
    const d = new Discovery(fill())
    expect(ids(d.discover(query({ tags: ['blue'] })))).toEqual(['p1', 'p2'])
    expect(ids(d.discover(query({ metadata: { region: 'eu' } })))).toEqual(['p1'])
    expect(ids(d.discover(query({ zone: 'z2' })))).toEqual(['p4'])
  })

  it('answers [] for an unknown service or no match', () => {
    const d = new Discovery(fill())
    expect(d.discover(query({ service: 'nope' }))).toEqual([])
    expect(d.discover(query({ tags: ['purple'] }))).toEqual([])
  })

  it('follows view changes', () => {
    const reg = fill()
    const d = new Discovery(reg)
    expect(ids(d.discover(query({ service: 'cart' })))).toEqual(['c1'])
    reg.applyBatch(batch('A', 1, put(6, rec('cart', 'c0')), del(7, 'cart/c1')))
    expect(ids(d.discover(query({ service: 'cart' })))).toEqual(['c0'])
  })

  it("excludes a DEAD owner's records (shown CRITICAL) unless unhealthy ones are asked for", () => {
    const reg = fill()
    reg.applyBatch(batch('B', 1, put(1, rec('pay', 'p9', { ownerNode: 'B' }))))
    const d = new Discovery(reg)
    expect(ids(d.discover(query({ includeUnhealthy: true })))).toContain('p9')
    reg.setLiveness('B', 'dead')
    expect(ids(d.discover(query({ limit: 0 })))).not.toContain('p9')
    const all = d.discover(query({ includeUnhealthy: true }))
    expect(all.find(r => r.instanceId === 'p9')?.status).toBe('CRITICAL')
    reg.setLiveness('B', 'gone')
    expect(ids(d.discover(query({ includeUnhealthy: true })))).not.toContain('p9')
  })
})
