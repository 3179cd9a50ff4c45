import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CheckScheduler } from '../../../node/health/scheduler.js'
import type { CheckSchedulerComponents } from '../../../node/health/scheduler.js'
import { seededRandom } from '../../../node/membership/clock.js'

// Fake timers fit here: a small unit whose only collaborator is setTimeout (STYLE 3).

interface Held { key: string, startedAt: number, release: () => void }

/** A run function that records starts and holds each run until released (or for `durationMs`). */
function recorder (durationMs?: number | ((key: string) => number)) {
  const starts: Array<{ key: string, at: number }> = []
  const held: Held[] = []
  let running = 0
  let maxRunning = 0
  const run = async (key: string): Promise<void> => {
    starts.push({ key, at: Date.now() })
    running++
    maxRunning = Math.max(maxRunning, running)
    try {
      await new Promise<void>((resolve) => {
        const ms = typeof durationMs === 'function' ? durationMs(key) : durationMs
        if (ms !== undefined) setTimeout(resolve, ms)
        else held.push({ key, startedAt: Date.now(), release: resolve })
      })
    } finally {
      running--
    }
  }
  return {
    run,
    starts,
    held,
    at: (key: string) => starts.filter((s) => s.key === key).map((s) => s.at),
    get maxRunning () { return maxRunning }
  }
}

/** Returns the values in turn, then repeats the last. */
function sequence (...values: number[]): () => number {
  let i = 0
  return () => values[Math.min(i++, values.length - 1)]
}

function scheduler (run: CheckSchedulerComponents['run'], maxConcurrent: number, random?: () => number): CheckScheduler {
  return new CheckScheduler({ now: () => Date.now(), run, random }, { maxConcurrent })
}

describe('CheckScheduler', () => {
  let s: CheckScheduler | undefined

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 })
  })

  afterEach(() => {
    s?.stop()
    s = undefined
    vi.useRealTimers()
  })

  it('runs each check first after a jitter drawn from [0, interval)', async () => {
    const r = recorder(10)
    s = scheduler(r.run, 10, sequence(0, 0.5, 0.9999))
    s.add('a', 1000)
    s.add('b', 1000)
    s.add('c', 1000)
    s.start()
    await vi.advanceTimersByTimeAsync(999)
    expect(r.starts).toEqual([{ key: 'a', at: 0 }, { key: 'b', at: 500 }, { key: 'c', at: 999 }])
  })

  it('spreads first runs of many checks over the whole interval', async () => {
    const r = recorder(1)
    s = scheduler(r.run, 1000, seededRandom(11).next)
    for (let i = 0; i < 500; i++) s.add(`k${i}`, 10_000)
    s.start()
    await vi.advanceTimersByTimeAsync(9_999)
    const firsts = r.starts.map((x) => x.at)
    expect(firsts).toHaveLength(500)
    expect(Math.max(...firsts)).toBeLessThan(10_000)
    // uniform over 10 s: each quarter gets about 125 of 500; a missing jitter puts all 500 in one
    for (let q = 0; q < 4; q++) {
      const n = firsts.filter((t) => t >= q * 2500 && t < (q + 1) * 2500).length
      expect(n).toBeGreaterThan(60)
    }
  })

  it('keeps its own schedule: run time does not shift later runs (no drift)', async () => {
    // runs take 700 ms, then 300 ms, alternating; starts stay on 250 + k × 1000
    let n = 0
    const r = recorder(() => (n++ % 2 === 0 ? 700 : 300))
    s = scheduler(r.run, 10, () => 0.25)
    s.add('a', 1000)
    s.start()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(r.at('a')).toEqual([250, 1250, 2250, 3250, 4250, 5250, 6250, 7250, 8250, 9250])
    expect(s.latenessPercentile(100)).toBe(0)
  })

  it('skips a run due while the previous one is still running, and keeps the phase', async () => {
    const r = recorder(2500)
    s = scheduler(r.run, 10, () => 0)
    s.add('a', 1000)
    s.start()
    await vi.advanceTimersByTimeAsync(6_500)
    expect(r.at('a')).toEqual([0, 3000, 6000])
    expect(s.stats().skipped).toBe(4) // 1000, 2000, 4000, 5000
  })

  it('skips periods missed during a stall instead of bursting', async () => {
    // the scheduler's clock jumps 4450 ms past the timer clock: a timer due at 1100 fires when now() says 5550
    let offset = 0
    const now = (): number => Date.now() + offset
    const starts: number[] = []
    s = new CheckScheduler({ now, run: async () => { starts.push(now()) }, random: () => 0.1 }, { maxConcurrent: 10 })
    s.add('a', 1000)
    s.start()
    await vi.advanceTimersByTimeAsync(200) // ran at 100
    offset = 4450
    await vi.advanceTimersByTimeAsync(1_500) // timer clock 1700, scheduler clock 6150
    expect(starts).toEqual([100, 5550, 6100])
    expect(s.latenessPercentile(100)).toBe(5_550 - 1_100)
    expect(s.stats().skipped).toBe(4) // 2100 … 5100
  })

  it('uses one timer however many checks there are', async () => {
    const r = recorder(1)
    s = scheduler(r.run, 256)
    for (let i = 0; i < 10_000; i++) s.add(`k${i}`, 10_000)
    expect(vi.getTimerCount()).toBe(0) // not started
    s.start()
    s.start()
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(25_000)
    expect(r.starts).toHaveLength(20_000 + r.starts.filter((x) => x.at >= 20_000).length)
    expect(r.starts.filter((x) => x.at >= 20_000).length).toBeGreaterThan(0)
    // one scheduler timer, plus the 1 ms timers of runs in flight at most
    expect(vi.getTimerCount()).toBeLessThanOrEqual(1 + 256)
  })

  describe('concurrency', () => {
    it('never runs more than maxConcurrent and starts waiting runs in FIFO order', async () => {
      const r = recorder()
      // k0 … k5 due at 0, 100, … 500
      s = scheduler(r.run, 2, sequence(0, 0.1, 0.2, 0.3, 0.4, 0.5))
      for (let i = 0; i < 6; i++) s.add(`k${i}`, 1000)
      s.start()
      await vi.advanceTimersByTimeAsync(600)
      expect(r.starts.map((x) => x.key)).toEqual(['k0', 'k1'])
      expect(s.stats()).toMatchObject({ running: 2, queued: 4 })

      r.held[0].release() // k0 settles at 600: k2 (due 200) starts, 400 ms late
      await vi.advanceTimersByTimeAsync(50)
      r.held[1].release() // k1 settles at 650: k3 starts
      await vi.advanceTimersByTimeAsync(0)
      expect(r.starts.map((x) => x.key)).toEqual(['k0', 'k1', 'k2', 'k3'])
      expect(r.starts.slice(2).map((x) => x.at)).toEqual([600, 650])
      while (r.held.some((h) => h.key === 'k5') === false) {
        for (const h of r.held.splice(0)) h.release()
        await vi.advanceTimersByTimeAsync(0)
      }
      expect(r.starts.map((x) => x.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5'])
      expect(r.maxRunning).toBe(2)
      // lateness of k0, k1: 0; k2: 400; k3: 350; k4, k5 started at 650 when k2 and k3 were released: 250, 150
      expect(s.latenessPercentile(0)).toBe(0)
      expect(s.latenessPercentile(50)).toBe(150)
      expect(s.latenessPercentile(100)).toBe(400)
    })

    it('frees a slot when the run enforces its timeout on a hung check', async () => {
      const timeoutMs = 300
      const starts: Array<{ key: string, at: number }> = []
      const run = async (key: string): Promise<void> => {
        starts.push({ key, at: Date.now() })
        const hang = new Promise<void>(() => {}) // 'hung' never answers
        const work = key === 'hung' ? hang : new Promise<void>((resolve) => setTimeout(resolve, 10))
        await Promise.race([work, new Promise<void>((resolve) => setTimeout(resolve, timeoutMs))])
      }
      s = scheduler(run, 1, sequence(0, 0.01))
      s.add('hung', 1000)
      s.add('ok', 1000) // due at 10, waits behind 'hung'
      s.start()
      await vi.advanceTimersByTimeAsync(299)
      expect(starts.map((x) => x.key)).toEqual(['hung'])
      await vi.advanceTimersByTimeAsync(1)
      expect(starts).toEqual([{ key: 'hung', at: 0 }, { key: 'ok', at: 300 }])
    })

    it('keeps scheduling after a run rejects', async () => {
      let calls = 0
      s = scheduler(async () => { calls++; throw new Error('bug in run') }, 1, () => 0)
      s.add('a', 1000)
      s.start()
      await vi.advanceTimersByTimeAsync(3_500)
      expect(calls).toBe(4)
      expect(s.stats()).toMatchObject({ failed: 4, running: 0 })
    })
  })

  describe('remove and stop', () => {
    it('remove stops a check and leaves the others', async () => {
      const r = recorder(1)
      s = scheduler(r.run, 10, sequence(0, 0.5))
      s.add('a', 1000)
      s.add('b', 1000)
      s.start()
      await vi.advanceTimersByTimeAsync(1_600)
      expect(r.at('a')).toEqual([0, 1000])
      s.remove('a')
      s.remove('a') // twice is fine
      await vi.advanceTimersByTimeAsync(5_000)
      expect(r.at('a')).toEqual([0, 1000])
      expect(r.at('b')).toEqual([500, 1500, 2500, 3500, 4500, 5500, 6500])
      expect(s.stats().checks).toBe(1)
    })

    it('remove drops a run waiting for a slot', async () => {
      const r = recorder()
      s = scheduler(r.run, 1, sequence(0, 0.1))
      s.add('a', 1000)
      s.add('b', 1000)
      s.start()
      await vi.advanceTimersByTimeAsync(200)
      expect(s.stats().queued).toBe(1)
      s.remove('b')
      r.held[0].release()
      await vi.advanceTimersByTimeAsync(500)
      expect(r.starts.map((x) => x.key)).toEqual(['a'])
      expect(s.stats()).toMatchObject({ running: 0, queued: 0 })
    })

    it('adding a key again replaces its schedule', async () => {
      const r = recorder(1)
      s = scheduler(r.run, 10, sequence(0, 0))
      s.add('a', 1000)
      s.start()
      await vi.advanceTimersByTimeAsync(500)
      s.add('a', 300) // re-added at 500 with jitter 0
      await vi.advanceTimersByTimeAsync(1_000)
      expect(r.at('a')).toEqual([0, 500, 800, 1100, 1400])
    })

    it('stop halts runs, drops the timer; start resumes on the same phase', async () => {
      const r = recorder(1)
      s = scheduler(r.run, 10, () => 0.25)
      s.add('a', 1000)
      s.start()
      await vi.advanceTimersByTimeAsync(1_500)
      s.stop()
      s.stop()
      expect(vi.getTimerCount()).toBe(0)
      await vi.advanceTimersByTimeAsync(3_000) // now 4500
      expect(r.at('a')).toEqual([250, 1250])
      s.start()
      await vi.advanceTimersByTimeAsync(2_000)
      expect(r.at('a')).toEqual([250, 1250, 5250, 6250])
    })

    it('reports NaN lateness before any run', () => {
      s = scheduler(async () => {}, 1)
      expect(s.latenessPercentile(50)).toBeNaN()
    })

    it.each([0, -1, 1.5, NaN])('rejects maxConcurrent %s', (n) => {
      expect(() => scheduler(async () => {}, n)).toThrow(RangeError)
    })
  })
})
