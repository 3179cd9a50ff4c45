import { describe, it, expect, vi, afterEach } from 'vitest'
import type { InstanceInput } from '../../node/api/validation.js'
import { NotFoundError } from '../../node/errors.js'
import { LocalOwner } from '../../node/registry/local-owner.js'
import type { Registry } from '../../node/registry/registry.js'
import type { Op } from '../../node/registry/types.js'
import { clockedRegistry, rec, silentLogger } from './registry-fixtures.js'

function input (over: Partial<InstanceInput> = {}): InstanceInput {
  return {
    service: 'pay', instanceId: 'p1', address: '10.0.0.9', port: 9090, protocol: 'http', version: '2',
    tags: ['blue'], metadata: { region: 'eu' }, weight: 100, zone: 'z1', ...over
  }
}

function setup (): { owner: LocalOwner, reg: Registry, clock: { t: number }, published: Op[], changed: ReturnType<typeof vi.fn> } {
  const { reg, clock } = clockedRegistry(1000)
  const published: Op[] = []
  const changed = vi.fn()
  const owner = new LocalOwner(
    { registry: reg, logger: silentLogger, now: () => clock.t, publish: op => { published.push(op) }, changed },
    { nodeId: 'N', epoch: 7, sweepIntervalMs: 100 })
  return { owner, reg, clock, published, changed }
}

afterEach(() => { vi.useRealTimers() })

describe('LocalOwner', () => {
  it('claims its own owner state at its epoch, with the floor at the epoch start', () => {
    const { reg } = setup()
    expect(reg.owner('N').head).toEqual({ epoch: 7, seq: 0 })
    expect(reg.owner('N').floor).toEqual({ epoch: 7, seq: 0 })
  })

  it('register stores, publishes and persists the record as owned by this node', () => {
    const { owner, reg, published, changed } = setup()
    const r = owner.register(input(), 5000)
    expect(r).toMatchObject({ ...input(), status: 'PASSING', ownerNode: 'N', registeredAtMs: 1000, updatedAtMs: 1000, ttlMs: 5000 })
    expect(reg.get('pay', 'pay/p1')).toBe(r)
    expect(published).toEqual([{ seq: 1, key: 'pay/p1', record: r }])
    expect(changed.mock.calls).toEqual([['pay/p1']])
    expect(owner.persisted('pay/p1')).toEqual({ record: r, expiresAtMs: 1000 + 5000 })
    expect(owner.persisted('pay/none')).toBeNull()
    expect(reg.vector()).toEqual([{ owner: 'N', epoch: 7, seq: 1, liveness: 'alive' }])
    expect(owner.records()).toEqual([r])
  })

  it("generates an instance id when it is ''", () => {
    const { owner } = setup()
    const a = owner.register(input({ instanceId: '' }), 5000)
    const b = owner.register(input({ instanceId: '' }), 5000)
    expect(a.instanceId).toMatch(/^[0-9a-f-]{36}$/)
    expect(b.instanceId).not.toBe(a.instanceId)
    expect(owner.records()).toHaveLength(2)
  })

  it('re-register is a new registration with strictly rising registration and update times; MAINTENANCE is kept', () => {
    const { owner, reg, published } = setup()
    owner.register(input(), 5000)
    const self = reg.owner('N')
    // the owner's status write path is elsewhere: put MAINTENANCE as an op of this owner
    reg.applyLocal('N', { seq: self.seq + 1, key: 'pay/p1', record: { ...self.entries.get('pay/p1')!.record!, status: 'MAINTENANCE' } })
    const again = owner.register(input({ address: '10.0.0.10' }), 5000)
    expect(again).toMatchObject({ status: 'MAINTENANCE', address: '10.0.0.10', registeredAtMs: 1001, updatedAtMs: 1001 })
    expect(published.map(o => o.seq)).toEqual([1, 3])
  })

  it('heartbeat renews the TTL and returns it; NotFoundError for an instance it does not own', () => {
    const { owner, reg, clock } = setup()
    owner.register(input(), 5000)
    clock.t = 5000
    expect(owner.heartbeat('pay', 'p1')).toBe(5000)
    clock.t = 9000
    expect(owner.expire()).toBe(0)
    clock.t = 10_000
    expect(owner.expire()).toBe(1)
    expect(reg.get('pay', 'pay/p1')).toBeUndefined()
    expect(() => owner.heartbeat('pay', 'p1')).toThrow(NotFoundError)
    expect(() => owner.heartbeat('pay', 'nope')).toThrow(NotFoundError)
  })

  it("heartbeat does not renew another owner's copy", () => {
    const { owner, reg } = setup()
    reg.applyBatch({ owner: 'M', epoch: 1, ops: [{ seq: 1, key: 'pay/p1', record: rec('pay', 'p1', { ownerNode: 'M' }) }] })
    expect(() => owner.heartbeat('pay', 'p1')).toThrow(NotFoundError)
  })

  it('heartbeats are not ops: nothing is published', () => {
    const { owner, published, changed } = setup()
    owner.register(input(), 5000)
    owner.heartbeat('pay', 'p1')
    owner.heartbeat('pay', 'p1')
    expect(published).toHaveLength(1)
    expect(changed).toHaveBeenCalledTimes(1)
  })

  it('deregister publishes a tombstone once; again is a no-op returning false', () => {
    const { owner, reg, published } = setup()
    owner.register(input(), 5000)
    expect(owner.deregister('pay', 'p1')).toBe(true)
    expect(published.at(-1)).toEqual({ seq: 2, key: 'pay/p1', record: null })
    expect(reg.size).toBe(0)
    expect(owner.deregister('pay', 'p1')).toBe(false)
    expect(owner.deregister('pay', 'never')).toBe(false)
    expect(published).toHaveLength(2)
  })

  it('expire removes exactly the records past their deadline', () => {
    const { owner, reg, clock, published } = setup()
    owner.register(input({ instanceId: 'short' }), 1000)
    owner.register(input({ instanceId: 'long' }), 5000)
    clock.t = 1999
    expect(owner.expire()).toBe(0)
    clock.t = 2000
    expect(owner.expire()).toBe(1)
    expect(owner.records().map(r => r.instanceId)).toEqual(['long'])
    expect(published.at(-1)).toEqual({ seq: 3, key: 'pay/short', record: null })
    expect(reg.get('pay', 'pay/short')).toBeUndefined()
    expect(owner.expire()).toBe(0)
  })

  it('a deregistered record does not expire later', () => {
    const { owner, clock, published } = setup()
    owner.register(input(), 1000)
    owner.deregister('pay', 'p1')
    clock.t = 10_000
    expect(owner.expire()).toBe(0)
    expect(published).toHaveLength(2)
  })

  it('start sweeps TTLs on a timer; stop ends it', () => {
    vi.useFakeTimers()
    const { owner, reg, clock } = setup()
    owner.register(input(), 500)
    owner.start()
    owner.start()
    clock.t = 1400
    vi.advanceTimersByTime(100)
    expect(reg.size).toBe(1)
    clock.t = 1500
    vi.advanceTimersByTime(100)
    expect(reg.size).toBe(0)
    owner.register(input({ instanceId: 'p2' }), 500)
    owner.stop()
    clock.t = 5000
    vi.advanceTimersByTime(1000)
    expect(reg.size).toBe(1)
  })

  it('restore re-announces persisted records in this epoch with their deadlines, and drops the expired', () => {
    const { owner, reg, clock, published } = setup()
    const old = rec('pay', 'p1', { ownerNode: 'old-id', registeredAtMs: 100, updatedAtMs: 5000, ttlMs: 2000 })
    const gone = rec('pay', 'p0', { ownerNode: 'old-id', registeredAtMs: 100, updatedAtMs: 900, ttlMs: 2000 })
    owner.restore([{ record: old, expiresAtMs: clock.t + 1500 }, { record: gone, expiresAtMs: clock.t - 1 }])
    const r = reg.get('pay', 'pay/p1')
    expect(r).toMatchObject({ ownerNode: 'N', registeredAtMs: 100, updatedAtMs: 5001 })
    expect(reg.get('pay', 'pay/p0')).toBeUndefined()
    expect(published).toEqual([{ seq: 1, key: 'pay/p1', record: r }])
    expect(owner.persistable()).toEqual([{ record: r, expiresAtMs: clock.t + 1500 }])
    clock.t += 1500
    expect(owner.expire()).toBe(1)
  })

  it('TTLs run on the monotonic clock: a wall-clock step expires nothing and extends nothing; the data dir gets wall-clock deadlines', () => {
    const { reg, clock } = clockedRegistry(1_000_000)
    const mono = { t: 50 }
    const owner = new LocalOwner({ registry: reg, logger: silentLogger, now: () => clock.t, clock: () => mono.t, publish: () => {}, changed: () => {} },
      { nodeId: 'N', epoch: 7, sweepIntervalMs: 100 })
    owner.register(input({ instanceId: 'a' }), 1000)
    expect(owner.persisted('pay/a')?.expiresAtMs).toBe(1_000_000 + 1000)
    // an hour forward on the wall: the TTL has not run out
    clock.t += 3_600_000
    expect(owner.expire()).toBe(0)
    expect(owner.persisted('pay/a')?.expiresAtMs).toBe(clock.t + 1000)
    // back again, and the TTL's time passes: it runs out
    clock.t -= 3_600_000
    mono.t += 1000
    expect(owner.expire()).toBe(1)
    // restored deadlines are wall-clock, converted to this process's clock
    const r = rec('pay', 'b', { ttlMs: 5000 })
    owner.restore([{ record: r, expiresAtMs: clock.t + 700 }])
    mono.t += 699
    expect(owner.expire()).toBe(0)
    mono.t += 1
    expect(owner.expire()).toBe(1)
  })

  it('a heartbeat renews the deadline it persists', () => {
    const { owner, clock } = setup()
    owner.register(input({ instanceId: 'h1' }), 1000)
    clock.t += 600
    owner.heartbeat('pay', 'h1')
    expect(owner.persistable()[0].expiresAtMs).toBe(clock.t + 1000)
    expect(owner.persisted('pay/h1')?.expiresAtMs).toBe(clock.t + 1000)
  })

  it("a Register wins over another owner's copy even when that owner's clock is ahead", () => {
    const { owner, reg, clock } = setup()
    reg.applyBatch({ owner: 'M', epoch: 1, ops: [{ seq: 1, key: 'pay/p1', record: rec('pay', 'p1', { ownerNode: 'M', registeredAtMs: clock.t + 60_000, updatedAtMs: clock.t + 60_000 }) }] })
    const r = owner.register(input(), 5000)
    expect(r.registeredAtMs).toBe(clock.t + 60_001)
    expect(reg.get('pay', 'pay/p1')).toBe(r)
  })

  it("gives up an owned record once another owner's newer registration is in the view (the client failed over)", async () => {
    const { owner, reg, clock, published, changed } = setup()
    owner.start()
    owner.register(input(), 60_000)
    owner.register(input({ instanceId: 'p2' }), 60_000)
    clock.t += 1000
    const theirs = rec('pay', 'p1', { ownerNode: 'M', registeredAtMs: clock.t, updatedAtMs: clock.t })
    reg.applyBatch({ owner: 'M', epoch: 1, ops: [{ seq: 1, key: 'pay/p1', record: theirs }] })
    // not inside the view change: after it
    expect(owner.get('pay/p1')).not.toBeNull()
    await new Promise(resolve => setImmediate(resolve))
    expect(owner.get('pay/p1')).toBeNull()
    expect(published.at(-1)).toEqual({ seq: 3, key: 'pay/p1', record: null })
    expect(changed).toHaveBeenLastCalledWith('pay/p1')
    expect(() => owner.heartbeat('pay', 'p1')).toThrow(NotFoundError)
    // the view keeps the newer copy; the other record stays ours
    expect(reg.get('pay', 'pay/p1')).toBe(theirs)
    expect(owner.get('pay/p2')).not.toBeNull()
    // when the client deregisters at its new owner, nothing of ours comes back
    reg.applyBatch({ owner: 'M', epoch: 1, ops: [{ seq: 2, key: 'pay/p1', record: null }] })
    expect(reg.get('pay', 'pay/p1')).toBeUndefined()
    owner.stop()
  })

  it("keeps an owned record that wins over another owner's older copy, and stops watching once stopped", async () => {
    const { owner, reg, clock } = setup()
    owner.start()
    const mine = owner.register(input(), 60_000)
    reg.applyBatch({ owner: 'M', epoch: 1, ops: [{ seq: 1, key: 'pay/p1', record: rec('pay', 'p1', { ownerNode: 'M', registeredAtMs: clock.t - 500, updatedAtMs: clock.t - 500 }) }] })
    await new Promise(resolve => setImmediate(resolve))
    expect(owner.get('pay/p1')).toBe(mine)
    owner.stop()
    reg.applyBatch({ owner: 'M', epoch: 1, ops: [{ seq: 2, key: 'pay/p1', record: rec('pay', 'p1', { ownerNode: 'M', registeredAtMs: clock.t + 500, updatedAtMs: clock.t + 500 }) }] })
    await new Promise(resolve => setImmediate(resolve))
    expect(owner.get('pay/p1')).toBe(mine)
  })

  it('gives up a record superseded before start() once it starts, and again after a stop and start', async () => {
    const { owner, reg, clock } = setup()
    owner.register(input(), 60_000)
    owner.register(input({ instanceId: 'p2' }), 60_000)
    const newer = (id: string, seq: number): void => {
      reg.applyBatch({ owner: 'M', epoch: 1, ops: [{ seq, key: `pay/${id}`, record: rec('pay', id, { ownerNode: 'M', registeredAtMs: clock.t + 10, updatedAtMs: clock.t + 10 }) }] })
    }
    newer('p1', 1)
    await new Promise(resolve => setImmediate(resolve))
    expect(owner.get('pay/p1')).not.toBeNull()
    owner.start()
    await new Promise(resolve => setImmediate(resolve))
    expect(owner.get('pay/p1')).toBeNull()
    owner.stop()
    owner.start()
    newer('p2', 2)
    await new Promise(resolve => setImmediate(resolve))
    expect(owner.get('pay/p2')).toBeNull()
    owner.stop()
  })
})

