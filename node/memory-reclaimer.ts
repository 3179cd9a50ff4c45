import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { performance as hooks } from 'node:perf_hooks'
import { runInNewContext } from 'node:vm'

/** Options of the reclaimer. */
export interface ReclaimerInit {
  /** how often the node is looked at */
  readonly checkMs: number
  /** the node counts as quiet after this long without activity */
  readonly quietMs: number
  /** collect only when the heap grew by at least this much since the last collection... */
  readonly minGrowthBytes: number
  /** ...and by at least this fraction of what was left after it */
  readonly minGrowthRatio: number
  /** a check that finds the event loop busier than this (0-1) since the last one counts as activity */
  readonly maxUtilization: number
}

/** What the reclaimer reads and does; the defaults are V8's. */
export interface ReclaimerComponents {
  /** any number that changes while the node is busy (the registry's version) */
  readonly activity: () => number
  /** the event loop's utilization (0-1) since the previous call; reads, heartbeats and checks show here */
  readonly utilization?: () => number
  readonly heapUsed?: () => number
  readonly collect?: () => void
  readonly now?: () => number
}

export const DEFAULT_RECLAIMER: ReclaimerInit = { checkMs: 1000, quietMs: 3000, minGrowthBytes: 32 * 1024 * 1024, minGrowthRatio: 0.5, maxUtilization: 0.1 }

/**
 * Gives memory back once a burst of writes is over. V8 collects when
 * allocation reaches a limit that grows with the heap, so the garbage of a
 * burst (replaced hash tables, persisted files, decoded batches; much of it
 * large objects outside the regular pages) stays in RSS for as long as the
 * node stays quiet: at 100,000 instances that was 100-250 MB per node on top
 * of about 120 MB of live objects. Once the node has been quiet for
 * `quietMs` and the heap holds much more than after the last collection, one
 * full collection runs, and V8 unmaps the pages it freed. A busy node is
 * left to V8: a forced collection there would only add pauses. Busy means
 * a change of the registry or an event loop used more than
 * `maxUtilization` since the last check (Discover, Watch, heartbeats and
 * checks change no registry version, but they do use the loop).
 */
export class MemoryReclaimer {
  /** collections run so far */
  collections = 0
  private timer: NodeJS.Timeout | undefined
  private lastActivity: number
  private quietSince: number
  private baseline: number
  private followUp = false
  private readonly utilization: () => number
  private readonly heapUsed: () => number
  private readonly collect: () => void
  private readonly now: () => number

  constructor (private readonly components: ReclaimerComponents, private readonly init: ReclaimerInit = DEFAULT_RECLAIMER) {
    this.utilization = components.utilization ?? loopUtilization()
    this.heapUsed = components.heapUsed ?? (() => getHeapStatistics().used_heap_size)
    this.collect = components.collect ?? fullCollection()
    this.now = components.now ?? (() => performance.now())
    this.lastActivity = components.activity()
    this.quietSince = this.now()
    this.baseline = this.heapUsed()
  }

  start (): this {
    this.timer ??= setInterval(() => { this.check() }, this.init.checkMs).unref()
    return this
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** One look at the node: collects when it is quiet and the heap grew enough. */
  check (): boolean {
    const activity = this.components.activity()
    const now = this.now()
    const busy = this.utilization() > this.init.maxUtilization
    if (activity !== this.lastActivity || busy) {
      this.lastActivity = activity
      this.quietSince = now
      // a follow-up belongs to the quiet spell it came from; a new one starts with the growth check
      this.followUp = false
      return false
    }
    if (now - this.quietSince < this.init.quietMs) return false
    if (this.followUp) {
      // the first collection returns before its sweeping is done; a second one, a check
      // later, shrinks the old generation to what it holds (in a test, 120 → 81 MB
      // committed for 27 MB of live objects, where one collection left 120)
      this.followUp = false
      return this.run()
    }
    const used = this.heapUsed()
    // V8's own collections lower the used heap too; then there is nothing to do
    if (used < this.baseline) this.baseline = used
    if (used - this.baseline < Math.max(this.init.minGrowthBytes, this.baseline * this.init.minGrowthRatio)) return false
    this.followUp = true
    return this.run()
  }

  private run (): boolean {
    this.collect()
    // the collection's own pause is not the node being busy: the next check must not drop the follow-up for it
    this.utilization()
    this.collections++
    this.baseline = this.heapUsed()
    return true
  }
}

// The event loop's utilization between calls (perf_hooks' ELU: time not spent waiting for I/O).
function loopUtilization (): () => number {
  let last = hooks.eventLoopUtilization()
  return () => {
    const since = hooks.eventLoopUtilization(last)
    last = hooks.eventLoopUtilization()
    return since.utilization
  }
}

let gcFn: (() => void) | undefined

/**
 * V8's full collection, without starting Node with --expose-gc: the flag,
 * set at run time, exposes `gc` in contexts created after it.
 */
export function fullCollection (): () => void {
  if (gcFn != null) return gcFn
  const exposed = (globalThis as { gc?: () => void }).gc
  if (typeof exposed === 'function') return (gcFn = exposed)
  setFlagsFromString('--expose-gc')
  const fn = runInNewContext('gc') as unknown
  if (typeof fn !== 'function') throw new Error('V8 did not expose gc')
  gcFn = fn as () => void
  return gcFn
}
