import type { Clock, TimerHandle } from '../../node/membership/clock.js'

interface Timer {
  readonly due: number
  /** insertion order: timers due at the same instant fire first-scheduled first */
  readonly seq: number
  readonly fn: () => void
  cancelled: boolean
}

/** Earlier due first, then earlier scheduled: a total order, so a run is reproducible. */
function before (a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq)
}

/**
 * Virtual time for the simulation: a binary heap of timers that fire only
 * when the test advances the clock. `advance` fires due timers synchronously;
 * `runFor` also lets promise continuations run after each timer, so a reply
 * that resolves a transport promise is acted on at the virtual instant it
 * arrived, not at the end of the window.
 */
export class FakeClock implements Clock {
  private time: number
  private seq = 0
  private readonly heap: Timer[] = []

  /**
   * @param start - the initial virtual time in ms
   * @param drainTicks - rounds of microtask turns granted after each timer.
   *   The core's deepest await chain (a reply settling the transport, the
   *   codec, a probe, Promise.allSettled) needs 3 rounds: with 3 the runs are
   *   identical to draining with setImmediate; 32 leaves ten times that
   */
  constructor (start = 0, private readonly drainTicks = 32) {
    this.time = start
  }

  /** The current virtual time in ms. */
  readonly now = (): number => this.time

  /** Runs `fn` once the clock reaches now + ms (ms < 0 counts as 0). */
  readonly setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const timer: Timer = { due: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false }
    this.push(timer)
    return { cancel: () => { timer.cancelled = true } }
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pending (): number {
    return this.heap.filter(t => !t.cancelled).length
  }

  /**
   * Moves time forward by `ms`, firing every timer due within the window in
   * time order, including timers that those timers schedule inside it.
   * Promise continuations run only after it returns: use `runFor` for code
   * that awaits.
   */
  advance (ms: number): void {
    const end = this.time + ms
    for (let t = this.nextDue(end); t != null; t = this.nextDue(end)) {
      this.time = t.due
      t.fn()
    }
    this.time = end
  }

  /**
   * Like `advance`, but drains the microtask queue after every timer, so
   * async code resumes at the virtual time its promise settled.
   */
  async runFor (ms: number): Promise<void> {
    const end = this.time + ms
    await this.drain()
    for (let t = this.nextDue(end); t != null; t = this.nextDue(end)) {
      this.time = t.due
      t.fn()
      await this.drain()
    }
    this.time = end
  }

  /** Lets pending promise continuations run, without moving time. */
  async drain (): Promise<void> {
    // queueMicrotask-paced turns, not setImmediate: no macrotask may slip in, so a run depends on the seed alone
    for (let i = 0; i < this.drainTicks; i++) await new Promise<void>(resolve => { queueMicrotask(resolve) })
  }

  // Pops the earliest live timer due at or before `end`; cancelled timers are discarded on the way.
  private nextDue (end: number): Timer | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0]
      if (top.cancelled) {
        this.pop()
        continue
      }
      if (top.due > end) return undefined
      return this.pop()
    }
    return undefined
  }

  private push (t: Timer): void {
    const h = this.heap
    h.push(t)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i], h[p])) break
      ;[h[i], h[p]] = [h[p], h[i]]
      i = p
    }
  }

  private pop (): Timer {
    const h = this.heap
    const top = h[0]
    const last = h.pop() as Timer
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && before(h[l], h[m])) m = l
        if (r < h.length && before(h[r], h[m])) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m], h[i]]
        i = m
      }
    }
    return top
  }
}
