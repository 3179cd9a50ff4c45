import { describe, it, expect } from 'vitest'
import { locality } from '../../../node/balancer/locality.js'
import type { HealthStatus, InstanceRecord } from '../../../node/registry/types.js'
import { ids, inst, seeded, tally } from './fixtures.js'

const PICKS = 10_000

/** `healthy` PASSING, then CRITICAL up to `size`, then `drained` MAINTENANCE, in `zone`. */
function zone (name: string, size: number, healthy: number, drained = 0): InstanceRecord[] {
  return Array.from({ length: size + drained }, (_, i) => inst(`${name}-${i}`, {
    zone: name,
    status: (i < healthy ? 'PASSING' : i < size ? 'CRITICAL' : 'MAINTENANCE') as HealthStatus
  }))
}

function inZoneShare (counts: Map<string, number>, z: string): number {
  let n = 0
  for (const [id, c] of counts) if (id.startsWith(`${z}-`)) n += c
  return n / PICKS
}

describe('locality', () => {
  it.each<[string, InstanceRecord[], number, number]>([
    ['all healthy', zone('a', 10, 10), 0.7, 1],
    ['exactly at the threshold (7 of 10)', zone('a', 10, 7), 0.7, 1],
    ['MAINTENANCE is not in the share (7 healthy + 3 drained)', zone('a', 7, 7, 3), 0.7, 1],
    ['one below (6 of 10): spill to all 16 servable', zone('a', 10, 6), 0.7, 6 / 16],
    ['a stricter threshold spills sooner (8 of 10 at 0.9)', zone('a', 10, 8), 0.9, 8 / 18],
    ['threshold 0 keeps a zone with any servable instance', zone('a', 10, 1), 0, 1]
  ])('%s: in-zone share %d', (_name, zoneA, threshold, share) => {
    const instances = [...zoneA, ...zone('b', 10, 10)]
    const counts = tally(locality(instances, seeded({ localityThreshold: threshold, panicThreshold: 0.3 })), PICKS, { clientZone: 'a' })
    expect(inZoneShare(counts, 'a')).toBeCloseTo(share, 2)
    for (const id of counts.keys()) expect(instances.find(r => r.instanceId === id)?.status).toBe('PASSING')
  })

  it('round robins exactly inside the zone, never leaving it', () => {
    const counts = tally(locality([...zone('a', 4, 4), ...zone('b', 4, 4)], seeded()), 1000, { clientZone: 'a' })
    expect([...counts].sort()).toEqual([['a-0', 250], ['a-1', 250], ['a-2', 250], ['a-3', 250]])
  })

  it('spills as exact round robin over every servable instance', () => {
    const counts = tally(locality([...zone('a', 4, 2), ...zone('b', 4, 4)], seeded()), 600, { clientZone: 'a' })
    expect(counts.size).toBe(6)
    for (const c of counts.values()) expect(c).toBe(100)
  })

  it.each([undefined, '', 'unknown-zone'])('clientZone %j: plain round robin over all servable', clientZone => {
    const counts = tally(locality([...zone('a', 2, 2), ...zone('b', 2, 2)], seeded()), 400, { clientZone })
    expect([...counts.values()]).toEqual([100, 100, 100, 100])
  })

  it('inside a zone prefers PASSING over WARNING, and keeps WARNING-only zones local', () => {
    const mixed = [inst('a-p', { zone: 'a' }), inst('a-w', { zone: 'a', status: 'WARNING' }), inst('b-p', { zone: 'b' })]
    expect([...tally(locality(mixed, seeded()), 100, { clientZone: 'a' }).keys()]).toEqual(['a-p'])
    const warnOnly = [inst('a-w', { zone: 'a', status: 'WARNING' }), inst('b-p', { zone: 'b' })]
    expect([...tally(locality(warnOnly, seeded()), 100, { clientZone: 'a' }).keys()]).toEqual(['a-w'])
  })

  it('in panic ignores zones and reports panic', () => {
    const instances = [...zone('a', 4, 1), ...zone('b', 4, 0)]
    const p = locality(instances, seeded())
    const counts = tally(p, 800, { clientZone: 'a' })
    expect(counts.size).toBe(8)
    expect(p.pick({ clientZone: 'a' })?.panic).toBe(true)
  })

  it('order lists the zone first, then the other zones', () => {
    const p = locality([...zone('a', 3, 3), ...zone('b', 3, 3)], seeded())
    const order = ids(p.order({ clientZone: 'b' }).instances)
    expect(order.slice(0, 3).sort()).toEqual(['b-0', 'b-1', 'b-2'])
    expect(order.slice(3).sort()).toEqual(['a-0', 'a-1', 'a-2'])
  })
})
