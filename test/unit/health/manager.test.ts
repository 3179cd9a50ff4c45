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
