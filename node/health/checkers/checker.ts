/**
 * What every active checker shares: its signature, its result, and the one
 * deadline rule. A checker never throws: every error becomes a failed result
 * whose output says what happened, because a thrown error would be a bug in
 * the scheduler's caller, not a fact about the instance.
 */
import type { CheckSpec } from '../check-spec.js'

/** Where the instance serves. */
export interface CheckTarget {
  readonly address: string
  readonly port: number
}

/**
 * One run's verdict. `ok`: the instance answered as a healthy one would;
 * `warning`: it answered degraded (served as WARNING; the state machine lets
 * it win over `ok`); `output`: one line or a short body, for operators.
 */
export interface CheckResult {
  ok: boolean
  warning?: boolean
  output: string
}

/** An active check: resolves by `spec.timeoutMs` or when `signal` aborts, whichever is first. */
export type Checker = (target: CheckTarget, spec: CheckSpec, signal: AbortSignal) => Promise<CheckResult>

/** A signal that aborts with the caller's or after `timeoutMs`; `dispose` clears the timer. */
export interface Deadline {
  readonly signal: AbortSignal
  /** Why it aborted, for the output: 'timed out after N ms' or 'aborted'. */
  reason: () => string
  dispose: () => void
}

/**
 * Joins the caller's signal with the spec's timeout. The checker keeps its
 * own timer even though the scheduler's run function enforces the timeout
 * too: a checker called alone (a CLI probe, a test) is then bounded as well.
 */
export function deadline (signal: AbortSignal, timeoutMs: number): Deadline {
  const ctl = new AbortController()
  let timedOut = false
  const onAbort = (): void => { ctl.abort(signal.reason) }
  const timer = setTimeout(() => { timedOut = true; ctl.abort(new Error('timeout')) }, timeoutMs)
  timer.unref()
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, { once: true })
  return {
    signal: ctl.signal,
    reason: () => timedOut ? `timed out after ${timeoutMs} ms` : 'aborted',
    dispose: () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
  }
}

/** `host:port`, with IPv6 literals in brackets as URLs and logs expect. */
export function hostPort (target: CheckTarget): string {
  return target.address.includes(':') ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`
}

/** A short description of an error: its code when it has one, then its message. */
export function describeError (err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message
  }
  return String(err)
}
