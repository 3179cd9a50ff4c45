/**
 * The health of one instance as a pure function of its check's results:
 * flap damping with Kubernetes' thresholds, Consul's warning and maintenance
 * semantics. No clock, no timers: the caller passes `nowMs` and stores the state.
 */
import type { HealthStatus } from '../registry/types.js'
import type { CheckSpec, InitialStatus } from './check-spec.js'

/** What the owner keeps per checked instance; every transition makes a new object. */
export interface HealthState {
  /**
   * The published status: MAINTENANCE while `maintenance`, else CRITICAL
   * while `unconfirmed`, else the worse of `checkStatus` and `reportedStatus`.
   */
  readonly status: HealthStatus
  /**
   * What the check alone says. Kept apart from `status` so that leaving
   * maintenance restores it (results keep arriving while drained, as in Consul).
   */
  readonly checkStatus: InitialStatus
  /**
   * Beside an active check, the instance's own view from Heartbeat, as a
   * second check: the worse of the two is published (Consul's service
   * status is the worst of its checks), so a client library that reports
   * PASSING cannot hide a failing HTTP check. Null until reported, and
   * always null for a TTL check, whose reports are the check itself.
   */
  readonly reportedStatus: InitialStatus | null
  /**
   * A TTL record re-announced after the owner's restart, until its client's
   * first heartbeat: served, one whose client had moved on (registered
   * elsewhere, and deregistered there, while this node was down) came back
   * PASSING until its TTL ran out, as nothing newer hid it.
   */
  readonly unconfirmed: boolean
  /** Consecutive passing or warning results (both mean "the instance answers"). */
  readonly consecutiveOk: number
  /** Consecutive failed results. */
  readonly consecutiveFail: number
  /** When `status` last became CRITICAL; null while it is not CRITICAL. */
  readonly criticalSinceMs: number | null
  readonly maintenance: boolean
  /** The last result's output (or what set the status), for operators. */
  readonly lastOutput: string
}

/** One input of the state machine. */
export type CheckEvent =
  /** A run of an active check (or a TTL expiry reported as a failure); `warning` wins over `ok`. */
  | { type: 'result', ok: boolean, warning?: boolean, output: string }
  /** The operator's SetMaintenance. */
  | { type: 'maintenance', enabled: boolean }
  /** The instance's own view, sent on Heartbeat. */
  | { type: 'reported', status: HealthStatus }
  /** A heartbeat of the instance's client: it is there (confirms a restored record). */
  | { type: 'heartbeat' }

/**
 * The state before any result: the spec's initial status. An instance that
 * starts CRITICAL starts its deregistration clock too, so one that never comes
 * up is reaped (Consul counts from registration the same way).
 */
export function initialHealth (spec: CheckSpec, nowMs: number): HealthState {
  const status = spec.initialStatus
  return {
    status,
    checkStatus: status,
    reportedStatus: null,
    unconfirmed: false,
    consecutiveOk: 0,
    consecutiveFail: 0,
    criticalSinceMs: status === 'CRITICAL' ? nowMs : null,
    maintenance: false,
    lastOutput: ''
  }
}

/**
 * The state after `event`.
 * - A failure counts toward `failureThreshold`; reaching it makes the instance
 *   CRITICAL, and a served instance stays as it was below it.
 * - A pass or a warning counts toward `successThreshold`. A served instance
 *   follows it at once (PASSING and WARNING are both served, so switching
 *   between them is no flap); a CRITICAL one is served again only once the
 *   threshold is reached, then as PASSING or WARNING per that last result.
 * - A reported status is an explicit statement, not a noisy sample. For a TTL
 *   check it is the check: it applies at once and restarts the opposite streak
 *   (Consul's TTL update). Beside an active check it is a second check, and
 *   the worse of the two is published. MAINTENANCE cannot be reported: it is
 *   the operator's switch, so it is ignored.
 * - Maintenance overrides the status until disabled; results still update the
 *   check's own status underneath.
 */
export function nextHealth (state: HealthState, event: CheckEvent, nowMs: number, spec: CheckSpec): HealthState {
  switch (event.type) {
    case 'result': {
      const warning = event.warning === true
      const up = warning || event.ok
      const consecutiveOk = up ? state.consecutiveOk + 1 : 0
      const consecutiveFail = up ? 0 : state.consecutiveFail + 1
      let checkStatus = state.checkStatus
      if (!up) {
        if (consecutiveFail >= spec.failureThreshold) checkStatus = 'CRITICAL'
      } else if (checkStatus !== 'CRITICAL' || consecutiveOk >= spec.successThreshold) {
        checkStatus = warning ? 'WARNING' : 'PASSING'
      }
      return publish(state, { checkStatus, consecutiveOk, consecutiveFail, lastOutput: event.output }, nowMs)
    }
    case 'reported': {
      const s = event.status
      if (s !== 'PASSING' && s !== 'WARNING' && s !== 'CRITICAL') return state
      if (spec.kind !== 'ttl') return publish(state, { reportedStatus: s, lastOutput: `reported ${s} on heartbeat` }, nowMs)
      return publish(state, {
        checkStatus: s,
        consecutiveOk: s === 'CRITICAL' ? 0 : state.consecutiveOk,
        consecutiveFail: s === 'CRITICAL' ? state.consecutiveFail : 0,
        lastOutput: `reported ${s} on heartbeat`
      }, nowMs)
    }
    case 'maintenance':
      if (event.enabled === state.maintenance) return state
      return publish(state, { maintenance: event.enabled }, nowMs)
    case 'heartbeat':
      return confirmed(state, nowMs)
  }
}

/** The state kept across a re-registration: the client is there, and a CRITICAL one counts toward deregistration from now. */
export function renewed (state: HealthState, nowMs: number): HealthState {
  const next = confirmed(state, nowMs)
  return next.criticalSinceMs == null ? next : { ...next, criticalSinceMs: nowMs }
}

// the client said it is there (a heartbeat, a Register): a restored record is served again
function confirmed (state: HealthState, nowMs: number): HealthState {
  return state.unconfirmed ? publish(state, { unconfirmed: false }, nowMs) : state
}

/**
 * The state of a record re-announced after a restart, from `fresh` (its
 * initial state) and the status persisted before: maintenance stays. A TTL
 * check keeps its status (the instance's own reports) but is CRITICAL until
 * the client's first heartbeat says it is still there; an active check's
 * result is not trusted across the restart, its next run says.
 */
export function restoredHealth (fresh: HealthState, persisted: HealthStatus, spec: CheckSpec, nowMs: number): HealthState {
  let state = persisted === 'MAINTENANCE' ? nextHealth(fresh, { type: 'maintenance', enabled: true }, nowMs, spec) : fresh
  if (spec.kind !== 'ttl') return state
  if (persisted !== 'MAINTENANCE') state = nextHealth(state, { type: 'reported', status: persisted }, nowMs, spec)
  return publish(state, { unconfirmed: true }, nowMs)
}

/**
 * True when the instance should be deregistered: CRITICAL (not in
 * maintenance) for longer than `deregisterCriticalAfterMs`, when that is set.
 * Maintenance stops the clock and leaving it restarts it, so an operator who
 * drains an instance to fix it does not see it reaped the moment they finish.
 */
export function shouldDeregister (state: HealthState, nowMs: number, spec: CheckSpec): boolean {
  return spec.deregisterCriticalAfterMs > 0 &&
    state.status === 'CRITICAL' &&
    state.criticalSinceMs !== null &&
    nowMs - state.criticalSinceMs > spec.deregisterCriticalAfterMs
}

// Derives the published status and keeps criticalSinceMs in step with it.
function publish (state: HealthState, change: Partial<HealthState>, nowMs: number): HealthState {
  const next = { ...state, ...change }
  const checked: HealthStatus = next.maintenance ? 'MAINTENANCE' : worse(next.checkStatus, next.reportedStatus)
  const status: HealthStatus = next.unconfirmed && !next.maintenance ? 'CRITICAL' : checked
  // the deregister clock runs only on what the checks say: an unconfirmed record's client may heartbeat
  // less often than deregister_critical_after, and must not lose a registration its TTL still covers
  const criticalSinceMs = checked !== 'CRITICAL' ? null : state.criticalSinceMs ?? nowMs
  return { ...next, status, criticalSinceMs }
}

const SEVERITY: Record<InitialStatus, number> = { PASSING: 0, WARNING: 1, CRITICAL: 2 }

function worse (a: InitialStatus, b: InitialStatus | null): InitialStatus {
  return b != null && SEVERITY[b] > SEVERITY[a] ? b : a
}
