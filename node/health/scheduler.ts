/**
 * Runs many periodic checks from one min-heap and one timer: 10k checks cost
 * one pending setTimeout, not 10k per period. Each check keeps its own phase
 * (a random first offset within its interval, then exact multiples of it), so
 * checks spread evenly and a slow run never shifts the next one.
 */
import type { Logger } from 'pino'

/** Collaborators of {@link CheckScheduler}. */
export interface CheckSchedulerComponents {
  /** Current time in ms; due times and lateness are measured on it. */
  now: () => number
  /**
   * Runs the check `key` once. It must settle by the check's timeout (the
   * scheduler holds a concurrency slot until it does); a rejection is logged.
   */
  run: (key: string) => Promise<void>
  /** Uniform in [0, 1), for the first-run jitter; default Math.random. */
  random?: () => number
  logger?: Logger
}

/** Options of {@link CheckScheduler}. */
export interface CheckSchedulerInit {
  /**
   * Runs in flight at most; due checks beyond it wait in a FIFO. e.g. 256.
   * Higher finishes a burst sooner; lower bounds sockets and file descriptors
   * (each HTTP or TCP run holds one until it settles).
   */
  maxConcurrent: number
  /** Lateness samples kept for percentiles (the most recent ones). Default 65536. */
  latenessSamples?: number
}

/** Counters of a scheduler, for metrics and the benchmark. */
export interface CheckSchedulerStats {
  /** Checks added and not removed. */
  checks: number
  running: number
  queued: number
  /** Runs started since construction. */
  started: number
  /** Due runs dropped: the previous run of the same check had not settled, or the process stalled past them. */
  skipped: number
  /** Runs whose promise rejected. */
  failed: number
}

const MAX_DELAY_MS = 2 ** 31 - 1

function before (a: Entry, b: Entry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq)
}

interface Entry {
  readonly key: string
  readonly intervalMs: number
  /** add order: breaks ties between equal due times, so runs due together start in add order */
  readonly seq: number
  dueMs: number
  /** index in the heap; every live entry stays in it, -1 once removed */
  heapIndex: number
  /** the due time of the run now queued or running; null when idle */
  activeDueMs: number | null
  removed: boolean
}

/**
 * Periodic runner of checks. A run due while the previous run of the same
 * check is still queued or running is skipped, not stacked: its phase is kept.
 * When the process stalls past whole intervals, missed runs are skipped too,
 * so one stall never turns into a burst.
 */
export class CheckScheduler {
  private readonly entries = new Map<string, Entry>()
  private readonly heap: Entry[] = []
  private readonly queue: Entry[] = []
  private queueHead = 0
  private readonly random: () => number
  private readonly maxConcurrent: number
  private readonly lateness: number[]
  private latenessNext = 0
  private latenessCount = 0
  private running = 0
  private seq = 0
  private started = 0
  private skipped = 0
  private failed = 0
  private timer: NodeJS.Timeout | undefined
  private timerDueMs = Infinity
  private active = false

  constructor (private readonly components: CheckSchedulerComponents, init: CheckSchedulerInit) {
    if (!Number.isInteger(init.maxConcurrent) || init.maxConcurrent < 1) throw new RangeError('maxConcurrent must be an integer ≥ 1')
    this.maxConcurrent = init.maxConcurrent
    this.random = components.random ?? Math.random
    this.lateness = new Array<number>(Math.max(1, init.latenessSamples ?? 65_536))
  }

  /**
   * Schedules `key` every `intervalMs`, the first run after a random offset
   * in [0, intervalMs). Adding a key again replaces its schedule (a run of
   * the old one still in flight settles unobserved).
   */
  add (key: string, intervalMs: number): void {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`)
    this.remove(key)
    const entry: Entry = {
      key,
      intervalMs,
      seq: this.seq++,
      dueMs: this.components.now() + Math.floor(this.random() * intervalMs),
      heapIndex: -1,
      activeDueMs: null,
      removed: false
    }
    this.entries.set(key, entry)
    this.push(entry)
    this.arm()
  }

  /** Stops scheduling `key`; a queued run is dropped, a running one settles unobserved. */
  remove (key: string): void {
    const entry = this.entries.get(key)
    if (entry == null) return
    this.entries.delete(key)
    entry.removed = true
    if (entry.heapIndex >= 0) this.removeAt(entry.heapIndex)
  }

  /** Starts firing due checks; idempotent. */
  start (): void {
    if (this.active) return
    this.active = true
    this.rephase()
    this.arm()
  }

  /** Stops firing and drops queued runs; running ones settle. Idempotent. */
  stop (): void {
    this.active = false
    clearTimeout(this.timer)
    this.timer = undefined
    this.timerDueMs = Infinity
    for (let i = this.queueHead; i < this.queue.length; i++) this.queue[i].activeDueMs = null
    this.queue.length = 0
    this.queueHead = 0
  }

  /**
   * How late runs started versus their due time, in ms, at percentile `p`
   * (0-100, nearest rank) over the most recent samples; NaN before any run.
   * Queueing behind `maxConcurrent` counts as lateness.
   */
  latenessPercentile (p: number): number {
    const n = Math.min(this.latenessCount, this.lateness.length)
    if (n === 0) return NaN
    const sorted = this.lateness.slice(0, n).sort((a, b) => a - b)
    const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * n)
    return sorted[Math.max(0, rank - 1)]
  }

  /** Forgets lateness samples, e.g. after a benchmark's warm-up. */
  resetLateness (): void {
    this.latenessCount = 0
    this.latenessNext = 0
  }

  /** Current counters. */
  stats (): CheckSchedulerStats {
    return {
      checks: this.entries.size,
      running: this.running,
      queued: this.queue.length - this.queueHead,
      started: this.started,
      skipped: this.skipped,
      failed: this.failed
    }
  }

  // Fires every due entry, then re-arms for the new earliest one.
  private fire (): void {
    this.timer = undefined
    this.timerDueMs = Infinity
    if (!this.active) return
    const now = this.components.now()
    while (this.heap.length > 0 && this.heap[0].dueMs <= now) {
      const entry = this.heap[0]
      const dueMs = entry.dueMs
      // The next due time comes from the schedule, never from now: no drift. Whole missed periods are skipped.
      const periods = Math.floor((now - dueMs) / entry.intervalMs) + 1
      this.skipped += periods - 1
      entry.dueMs = dueMs + entry.intervalMs * periods
      this.siftDown(0)
      this.dispatch(entry, dueMs)
    }
    this.arm()
  }

  private dispatch (entry: Entry, dueMs: number): void {
    if (entry.activeDueMs !== null) {
      this.skipped++
      return
    }
    entry.activeDueMs = dueMs
    if (this.running < this.maxConcurrent) this.begin(entry)
    else this.queue.push(entry)
  }

  private begin (entry: Entry): void {
    const dueMs = entry.activeDueMs ?? this.components.now()
    this.record(this.components.now() - dueMs)
    this.running++
    this.started++
    let promise: Promise<void>
    try {
      promise = Promise.resolve(this.components.run(entry.key))
    } catch (err) {
      promise = Promise.reject(err)
    }
    promise.catch((err: unknown) => {
      this.failed++
      this.components.logger?.warn({ err, check: entry.key }, 'check run failed')
    }).finally(() => {
      this.running--
      entry.activeDueMs = null
      this.drain()
    })
  }

  // Starts queued runs while slots are free, oldest first; removed entries are dropped here.
  private drain (): void {
    while (this.active && this.running < this.maxConcurrent && this.queueHead < this.queue.length) {
      const entry = this.queue[this.queueHead++]
      if (entry.removed) {
        entry.activeDueMs = null
        continue
      }
      this.begin(entry)
    }
    // Compact now and then so the array does not grow with every queued run.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead)
      this.queueHead = 0
    }
  }

  private record (latenessMs: number): void {
    this.lateness[this.latenessNext] = Math.max(0, latenessMs)
    this.latenessNext = (this.latenessNext + 1) % this.lateness.length
    this.latenessCount++
  }

  // One timer for the earliest due entry; replaced only when that moves earlier.
  private arm (): void {
    if (!this.active || this.heap.length === 0) return
    const dueMs = this.heap[0].dueMs
    if (this.timer !== undefined && this.timerDueMs <= dueMs) return
    clearTimeout(this.timer)
    this.timerDueMs = dueMs
    // Node turns delays above 2^31 - 1 ms into 1 ms: wake early instead, fire() re-arms.
    this.timer = setTimeout(() => { this.fire() }, Math.min(MAX_DELAY_MS, Math.max(0, dueMs - this.components.now())))
    this.timer.unref()
  }

  // After a stop, due times in the past move forward by whole intervals: same phase, no burst.
  private rephase (): void {
    const now = this.components.now()
    for (const e of this.heap) {
      if (e.dueMs < now) e.dueMs += e.intervalMs * Math.ceil((now - e.dueMs) / e.intervalMs)
    }
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  private push (entry: Entry): void {
    entry.heapIndex = this.heap.length
    this.heap.push(entry)
    this.siftUp(entry.heapIndex)
  }

  private removeAt (i: number): void {
    const removed = this.heap[i]
    const last = this.heap.pop() as Entry
    removed.heapIndex = -1
    if (i < this.heap.length) {
      this.heap[i] = last
      last.heapIndex = i
      this.siftDown(i)
      this.siftUp(last.heapIndex)
    }
  }

  private siftUp (i: number): void {
    const h = this.heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(h[i], h[parent])) break
      this.swap(i, parent)
      i = parent
    }
  }

  private siftDown (i: number): void {
    const h = this.heap
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let min = i
      if (l < h.length && before(h[l], h[min])) min = l
      if (r < h.length && before(h[r], h[min])) min = r
      if (min === i) return
      this.swap(i, min)
      i = min
    }
  }

  private swap (a: number, b: number): void {
    const h = this.heap
    const t = h[a]
    h[a] = h[b]
    h[b] = t
    h[a].heapIndex = a
    h[b].heapIndex = b
  }
}
