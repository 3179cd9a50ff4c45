import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../cluster/wait.js'
import { DEFAULT_CHECK } from '../../../node/health/check-spec.js'
import type { CheckSpec } from '../../../node/health/check-spec.js'
import type { Checker } from '../../../node/health/checkers/checker.js'
import { HealthManager } from '../../../node/health/manager.js'
import type { HealthStatus, InstanceRecord } from '../../../node/registry/types.js'

// The manager with a checker that holds each run until its signal aborts:
// what matters here is who aborts a run in flight, not the wire.

const spec: CheckSpec = { ...DEFAULT_CHECK, kind: 'tcp', intervalMs: 1000, timeoutMs: 60_000 }

function record (id: string): InstanceRecord {
  return {
    service: 'web', instanceId: id, address: '127.0.0.1', port: 1, protocol: '', version: '', tags: [], metadata: {},
    weight: 100, zone: '', status: 'CRITICAL', ownerNode: 'n1', registeredAtMs: 0, updatedAtMs: 0, ttlMs: 30_000, check: spec
  }
}

describe('HealthManager', () => {
  let manager: HealthManager | undefined
  afterEach(() => { manager?.stop() })

  it('aborts the runs in flight when it stops, and runs again after a restart', async () => {
    const signals: AbortSignal[] = []
    const statuses: HealthStatus[] = []
    const holding: Checker = async (_target, _spec, signal) => await new Promise(resolve => {
      signals.push(signal)
      signal.addEventListener('abort', () => { resolve({ ok: false, output: 'aborted' }) }, { once: true })
    })
    manager = new HealthManager({
      now: Date.now,
      logger: pino({ level: 'silent' }),
      setStatus: (_key, status) => { statuses.push(status) },
      deregister: () => {},
      checkers: { tcp: holding }
    }, { maxConcurrent: 16 })
    for (let i = 0; i < 20; i++) manager.track(`web/i${i}`, record(`i${i}`))
    manager.start()
    // 20 checks, first runs within one 1 s interval, at most 16 at once
    await waitFor(() => signals.length === 16, { timeoutMs: 5000 })
    expect(signals.every(s => !s.aborted)).toBe(true)

    manager.stop()
    expect(signals.every(s => s.aborted)).toBe(true)
    // the runs settle (a tick later) and free their slots
    await waitFor(() => manager?.scheduler.stats().running === 0, { timeoutMs: 1000 })

    // the next start gets a fresh signal: runs are not born aborted
    const before = signals.length
    manager.start()
    await waitFor(() => signals.length > before, { timeoutMs: 5000 })
    expect(signals.slice(before).every(s => !s.aborted)).toBe(true)
  })
})

describe('HealthManager.track', () => {
  const clock = { t: 1_000_000 }
  const targets: number[] = []
  // the port answers when it is below 100
  const scripted: Checker = async target => { targets.push(target.port); return target.port < 100 ? { ok: true, output: 'up' } : { ok: false, output: 'refused' } }
  const deregistered: string[] = []
  const published: string[] = []
  const make = (): HealthManager => new HealthManager({
    now: () => clock.t, logger: pino({ level: 'silent' }), setStatus: (key, status) => { published.push(`${key}:${status}`) }, deregister: key => { deregistered.push(key) }, checkers: { tcp: scripted }
  }, { maxConcurrent: 4 })
  // one run of a key's check, as the scheduler would start it
  const runOnce = async (m: HealthManager, key: string): Promise<void> => { await (m as unknown as { run: (k: string) => Promise<void> }).run(key) }
  const checked = (over: Partial<CheckSpec> = {}, port = 1): InstanceRecord => ({ ...record('a'), port, check: { ...spec, initialStatus: 'CRITICAL', successThreshold: 1, failureThreshold: 1, ...over } })

  it('keeps the state of the same check at the same target; a new port starts over and is checked there', async () => {
    const m = make()
    expect(m.track('web/a', checked())).toBe('CRITICAL')
    await runOnce(m, 'web/a')
    expect(m.stateOf('web/a')?.status).toBe('PASSING')
    expect(m.track('web/a', checked())).toBe('PASSING')
    expect(m.track('web/a', checked({}, 500))).toBe('CRITICAL')
    expect(m.scheduler.stats().checks).toBe(1)
    await runOnce(m, 'web/a')
    expect(targets.at(-1)).toBe(500)
    expect(m.stateOf('web/a')?.status).toBe('CRITICAL')
  })

  it('maintenance outlives a changed check', () => {
    const m = make()
    m.track('web/a', checked())
    m.maintenance('web/a', true)
    expect(m.track('web/a', checked({ intervalMs: 2000 }))).toBe('MAINTENANCE')
    expect(m.track('web/a', checked({ intervalMs: 2000 }, 7))).toBe('MAINTENANCE')
  })

  it('a re-registration restarts the deregister clock of a CRITICAL instance', async () => {
    const m = make()
    const r = checked({ deregisterCriticalAfterMs: 60_000 }, 500)
    m.track('web/a', r)
    clock.t += 70_000
    m.track('web/a', r)
    m.sweep()
    expect(deregistered).toEqual([])
    clock.t += 60_001
    m.sweep()
    expect(deregistered).toEqual(['web/a'])
  })

  it.each<{ name: string, check: Partial<CheckSpec>, persisted: HealthStatus, expected: HealthStatus, heartbeat: HealthStatus }>([
    { name: 'maintenance stays', check: {}, persisted: 'MAINTENANCE', expected: 'MAINTENANCE', heartbeat: 'MAINTENANCE' },
    { name: 'a TTL record is CRITICAL until its client heartbeats, then PASSING', check: { kind: 'ttl' }, persisted: 'PASSING', expected: 'CRITICAL', heartbeat: 'PASSING' },
    { name: "a TTL check's reported WARNING comes back with the heartbeat", check: { kind: 'ttl' }, persisted: 'WARNING', expected: 'CRITICAL', heartbeat: 'WARNING' },
    { name: "a TTL check's reported CRITICAL stays", check: { kind: 'ttl' }, persisted: 'CRITICAL', expected: 'CRITICAL', heartbeat: 'CRITICAL' },
    { name: 'an active check starts over (its next run says)', check: { initialStatus: 'CRITICAL' }, persisted: 'PASSING', expected: 'CRITICAL', heartbeat: 'CRITICAL' }
  ])('restored after a restart: $name', ({ check, persisted, expected, heartbeat }) => {
    const m = make()
    expect(m.track('web/a', checked(check), persisted)).toBe(expected)
    m.heartbeat('web/a')
    expect(m.stateOf('web/a')?.status).toBe(heartbeat)
  })

  it('a restored TTL record waiting for its heartbeat does not count toward deregister_critical_after', () => {
    const m = make()
    const r = checked({ kind: 'ttl', deregisterCriticalAfterMs: 60_000 })
    expect(m.track('web/unconfirmed', r, 'PASSING')).toBe('CRITICAL')
    clock.t += 120_000
    m.sweep()
    expect(deregistered).not.toContain('web/unconfirmed')
    m.heartbeat('web/unconfirmed')
    expect(m.stateOf('web/unconfirmed')?.status).toBe('PASSING')
  })

  it('a heartbeat reporting a status on a restored TTL record is one change: no PASSING in between', () => {
    const m = make()
    expect(m.track('web/a', checked({ kind: 'ttl' }), 'PASSING')).toBe('CRITICAL')
    published.length = 0
    m.heartbeat('web/a', 'WARNING')
    expect(published).toEqual(['web/a:WARNING'])
    // reported CRITICAL: it stays CRITICAL, and nothing is published
    expect(m.track('web/b', checked({ kind: 'ttl' }), 'PASSING')).toBe('CRITICAL')
    published.length = 0
    m.heartbeat('web/b', 'CRITICAL')
    expect(published).toEqual([])
    expect(m.stateOf('web/b')?.unconfirmed).toBe(false)
  })

  it('a re-Register confirms a restored TTL record', () => {
    const m = make()
    const r = checked({ kind: 'ttl' })
    expect(m.track('web/a', r, 'PASSING')).toBe('CRITICAL')
    expect(m.track('web/a', r)).toBe('PASSING')
  })
})

