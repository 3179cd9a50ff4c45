import type { Clock, TimerHandle } from '../../node/membership/clock.js'

/** What a simulated process is doing: running, stopped by SIGSTOP, or gone. */
export type ProcessState = 'running' | 'paused' | 'crashed'

interface Deferred {
  readonly fn: () => void
  readonly cancelled: () => boolean
}

/**
 * One simulated process's view of the shared clock. Everything the process
 * does (its own timers, handling a message, acting on a reply) is scheduled
 * through it, so pausing the process stops all of it: work that falls due
 * while paused runs at resume, in the order it fell due (a SIGSTOPped
 * process finds its expired timers and queued socket data when it wakes),
 * and a crashed process runs nothing ever again.
 */
export class ProcessClock implements Clock {
  private status: ProcessState = 'running'
  private deferred: Deferred[] = []

  constructor (private readonly clock: Clock) {}

  /** Shared virtual time: a paused process sees the jump when it wakes. */
  readonly now = (): number => this.clock.now()

  /** Schedules `fn` on behalf of this process. */
  readonly setTimeout = (fn: () => void, ms: number): TimerHandle => {
    let cancelled = false
    const handle = this.clock.setTimeout(() => { this.run(fn, () => cancelled) }, ms)
    return { cancel: () => { cancelled = true; handle.cancel() } }
  }

  /** Running, paused or crashed. */
  get state (): ProcessState {
    return this.status
  }

  /** Freezes the process: nothing it schedules runs until `resume`. */
  pause (): void {
    if (this.status === 'running') this.status = 'paused'
  }

  /** Wakes the process: what fell due meanwhile runs now, oldest first. */
  resume (): void {
    if (this.status !== 'paused') return
    this.status = 'running'
    const due = this.deferred
    this.deferred = []
    // each on its own zero-delay timer, so promise continuations run between them as between real callbacks
    for (const d of due) this.clock.setTimeout(() => { this.run(d.fn, d.cancelled) }, 0)
  }

  /** Kills the process: nothing scheduled by or for it ever runs. */
  crash (): void {
    this.status = 'crashed'
    this.deferred = []
  }

  private run (fn: () => void, cancelled: () => boolean): void {
    if (cancelled() || this.status === 'crashed') return
    if (this.status === 'paused') this.deferred.push({ fn, cancelled })
    else fn()
  }
}
