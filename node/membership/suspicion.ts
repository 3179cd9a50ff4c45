import type { Clock, TimerHandle } from './clock.js'

/**
 * Lifeguard's suspicion timeout (memberlist's remainingSuspicionTime): it
 * starts at `maxMs` and falls towards `minMs` as independent members
 * confirm the suspicion, `k` confirmations reaching the minimum. Returns the
 * time left after `elapsedMs` (may be negative: expired).
 */
export function remainingSuspicionTime (confirmations: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  const frac = k <= 0 ? 1 : Math.log(confirmations + 1) / Math.log(k + 1)
  const raw = maxMs - frac * (maxMs - minMs)
  const timeout = Math.max(minMs, Math.floor(raw))
  return timeout - elapsedMs
}

/**
 * The minimum suspicion timeout: `suspicionMult × log10(max(n, 1) + 1) ×
 * probeIntervalMs`, growing slowly with the cluster so a suspicion has time
 * to reach the member and be refuted.
 */
export function suspicionMinMs (suspicionMult: number, n: number, probeIntervalMs: number): number {
  return suspicionMult * Math.log10(Math.max(n, 1) + 1) * probeIntervalMs
}

/** A timer this late means the process was not running. */
const LATE_FIRE_MS = 250
/** How long a resumed node waits for news before it acts on an expired suspicion. */
const PAUSE_GRACE_MS = 250

/**
 * One suspicion of one member: fires `onTimeout` when its timeout runs out.
 * Each distinct accuser after the first shortens it (Lifeguard).
 */
export class Suspicion {
  private readonly accusers = new Set<string>()
  private readonly startedAt: number
  private timer: TimerHandle
  /** cancelled or fired: a late confirmation must not re-arm it */
  private done = false
  /** when the timer is due; a fire much later than this means this node was paused */
  private dueAt: number
  private graceUsed = false

  constructor (
    private readonly clock: Clock,
    firstAccuser: string,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly onTimeout: () => void
  ) {
    this.accusers.add(firstAccuser)
    this.startedAt = clock.now()
    this.dueAt = this.startedAt + (k <= 0 ? minMs : maxMs)
    this.timer = clock.setTimeout(() => { this.fire() }, k <= 0 ? minMs : maxMs)
  }

  /** Confirmations beyond the first accuser. */
  get confirmations (): number {
    return this.accusers.size - 1
  }

  /** Adds an accuser; true when it was new (and the timeout shrank). */
  confirm (accuser: string): boolean {
    if (this.done || this.accusers.has(accuser) || this.confirmations >= this.k) return false
    this.accusers.add(accuser)
    const left = remainingSuspicionTime(this.confirmations, this.k, this.clock.now() - this.startedAt, this.minMs, this.maxMs)
    this.timer.cancel()
    this.dueAt = this.clock.now() + Math.max(0, left)
    this.timer = this.clock.setTimeout(() => { this.fire() }, Math.max(0, left))
    return true
  }

  /** Stops the timer (the member refuted, or was declared by someone else). */
  cancel (): void {
    this.done = true
    this.timer.cancel()
  }

  private fire (): void {
    if (this.done) return
    // Fired far too late: this node was paused (GC, SIGSTOP, a stalled VM), and
    // timers run before the messages that piled up meanwhile, a refutation among
    // them. Lifeguard: a slow node must not trust its own verdicts; look once more.
    const late = this.clock.now() - this.dueAt
    if (!this.graceUsed && late > LATE_FIRE_MS) {
      this.graceUsed = true
      this.dueAt = this.clock.now() + PAUSE_GRACE_MS
      this.timer = this.clock.setTimeout(() => { this.fire() }, PAUSE_GRACE_MS)
      return
    }
    this.done = true
    this.onTimeout()
  }
}
