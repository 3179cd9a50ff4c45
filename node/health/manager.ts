import { setMaxListeners } from 'node:events'
import type { Logger } from 'pino'
import type { HealthStatus, InstanceRecord } from '../registry/types.js'
import { DEFAULT_CHECK } from './check-spec.js'
import type { CheckSpec } from './check-spec.js'
import type { Checker } from './checkers/checker.js'
import { grpcCheck } from './checkers/grpc.js'
import { httpCheck } from './checkers/http.js'
import { tcpCheck } from './checkers/tcp.js'
import { CheckScheduler } from './scheduler.js'
import { initialHealth, nextHealth, renewed, restoredHealth, shouldDeregister } from './state-machine.js'
import type { CheckEvent, HealthState } from './state-machine.js'

/** The owner's write path, as the health manager sees it. */
export interface HealthManagerComponents {
  readonly now: () => number
  readonly logger: Logger
  /** writes a new status of an owned record (an op, so every node sees it) */
  readonly setStatus: (key: string, status: HealthStatus) => void
  /** deregisters an owned record (CRITICAL past deregister_critical_after) */
  readonly deregister: (key: string) => void
  /** checkers by kind; real ones by default */
  readonly checkers?: Partial<Record<'http' | 'tcp' | 'grpc', Checker>>
}

interface Tracked {
  /** where the active check goes; null for a TTL-only record (holding the record itself kept a second copy of every owned one) */
  target: { readonly address: string, readonly port: number } | null
  spec: CheckSpec
  state: HealthState
}

/**
 * Runs the health checks of the instances this node owns (only the owner
 * runs them) and turns results, reported statuses and maintenance into
 * statuses through the state machine; each change is one op of the owner.
 * Checks are spread with jitter by one scheduler with bounded concurrency,
 * and each run is cut at its timeout, so a hanging target blocks nothing.
 */
export class HealthManager {
  private readonly tracked = new Map<string, Tracked>()
  readonly scheduler: CheckScheduler
  private readonly checkers: Record<'http' | 'tcp' | 'grpc', Checker>
  /**
   * Aborted by stop(), so runs in flight end with the node. Each checker
   * enforces the spec's timeout itself; a per-run AbortSignal.timeout here
   * would cost a timer and a DOMException for every run (10k checks at 10 s
   * made that a tenth of the node's CPU).
   */
  private stopping = HealthManager.stopSignal()

  constructor (private readonly components: HealthManagerComponents, init: { maxConcurrent: number }) {
    this.checkers = { http: httpCheck, tcp: tcpCheck, grpc: grpcCheck, ...components.checkers }
    this.scheduler = new CheckScheduler({ now: components.now, logger: components.logger, run: async key => { await this.run(key) } }, { maxConcurrent: init.maxConcurrent })
  }

  // every run in flight listens on it (up to maxConcurrent): not a leak, so no warning
  private static stopSignal (): AbortController {
    const ctl = new AbortController()
    setMaxListeners(0, ctl.signal)
    return ctl
  }

  start (): void {
    if (this.stopping.signal.aborted) this.stopping = HealthManager.stopSignal()
    this.scheduler.start()
  }

  stop (): void {
    this.scheduler.stop()
    this.stopping.abort()
  }

  /**
   * Tracks a newly written owned record; returns the status it should carry.
   * - A re-registration with the same check and target keeps its state (no
   *   flap to the initial status), but its deregister clock restarts: the
   *   client has just said it is there.
   * - A new check, or the same check at a new address or port, starts over
   *   from the initial status: a result of the old target says nothing of
   *   the new one.
   * - Maintenance is the operator's and outlives both.
   * - `restored`: the status persisted by an earlier run of this node. It
   *   keeps maintenance, and a TTL check's status (the instance's own
   *   reports, which no check run would bring back); an active check starts
   *   over.
   */
  track (key: string, record: InstanceRecord, restored?: HealthStatus): HealthStatus {
    const spec = record.check ?? DEFAULT_CHECK
    const now = this.components.now()
    const target = spec.kind === 'ttl' ? null : { address: record.address, port: record.port }
    const prev = this.tracked.get(key)
    const same = prev != null && sameCheck(prev.spec, spec) && sameTarget(prev.target, target)
    let state = same ? renewed(prev.state, now) : initialHealth(spec, now)
    if (restored != null) state = restoredHealth(state, restored, spec, now)
    else if (!same && prev?.state.maintenance === true) state = nextHealth(state, { type: 'maintenance', enabled: true }, now, spec)
    this.tracked.set(key, { target, spec, state })
    if (spec.kind === 'ttl') this.scheduler.remove(key)
    // a run in flight for the old target is dropped when it ends (run() compares the entry)
    else if (!same) this.scheduler.add(key, spec.intervalMs)
    return state.status
  }

  /** Stops checking a record that went away. */
  untrack (key: string): void {
    this.tracked.delete(key)
    this.scheduler.remove(key)
  }

  /**
   * A heartbeat of the instance's client (confirms a record restored after
   * a restart), with the status it reported if any: one transition, so a
   * restored record reported CRITICAL does not flash PASSING in between
   * (two ops, two watch events). False when not tracked.
   */
  heartbeat (key: string, reported?: HealthStatus): boolean {
    return this.apply(key, { type: 'heartbeat' }, reported === undefined ? undefined : { type: 'reported', status: reported })
  }

  /** The operator's drain switch; false when this node does not track it. */
  maintenance (key: string, enabled: boolean): boolean {
    return this.apply(key, { type: 'maintenance', enabled })
  }

  /**
   * Deregisters records CRITICAL past their deregister_critical_after: a
   * record whose status came from a report gets no further events, so
   * this runs on a timer too.
   */
  sweep (): void {
    const now = this.components.now()
    for (const [key, t] of this.tracked) {
      if (shouldDeregister(t.state, now, t.spec)) this.components.deregister(key)
    }
  }

  /** The current health state of a tracked record. */
  stateOf (key: string): HealthState | undefined {
    return this.tracked.get(key)?.state
  }

  private async run (key: string): Promise<void> {
    const t = this.tracked.get(key)
    if (t == null || t.spec.kind === 'ttl' || t.target == null) return
    const result = await this.checkers[t.spec.kind](t.target, t.spec, this.stopping.signal)
    // the record may have gone (or changed check) while the run was in flight
    if (this.tracked.get(key) !== t) return
    this.apply(key, { type: 'result', ok: result.ok, warning: result.warning, output: result.output })
  }

  private apply (key: string, event: CheckEvent, then?: CheckEvent): boolean {
    const t = this.tracked.get(key)
    if (t == null) return false
    const now = this.components.now()
    let next = nextHealth(t.state, event, now, t.spec)
    if (then !== undefined) next = nextHealth(next, then, now, t.spec)
    const changed = next.status !== t.state.status
    t.state = next
    if (changed) {
      this.components.logger.info({ key, status: next.status, output: next.lastOutput.slice(0, 200) }, 'instance health changed')
      this.components.setStatus(key, next.status)
    }
    if (shouldDeregister(next, now, t.spec)) {
      this.components.logger.info({ key }, 'deregistering an instance critical for too long')
      this.components.deregister(key)
    }
    return true
  }
}

function sameCheck (a: CheckSpec, b: CheckSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

function sameTarget (a: Tracked['target'], b: Tracked['target']): boolean {
  return a === b || (a != null && b != null && a.address === b.address && a.port === b.port)
}
