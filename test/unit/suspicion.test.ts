import { describe, it, expect } from 'vitest'
import type { Clock, TimerHandle } from '../../node/membership/clock.js'
import { Suspicion, remainingSuspicionTime, suspicionMinMs } from '../../node/membership/suspicion.js'

/** A manual clock: `advance(ms)` fires due timers in time order, each at its own instant. */
class FakeClock implements Clock {
  private t = 0
  private seq = 0
  private readonly timers: Array<{ at: number, seq: number, fn: () => void, live: boolean }> = []

  now = (): number => this.t

  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const timer = { at: this.t + ms, seq: this.seq++, fn, live: true }
    this.timers.push(timer)
    return { cancel: () => { timer.live = false } }
  }

  advance (ms: number): void {
    const end = this.t + ms
    for (;;) {
      const due = this.timers
        .filter(x => x.live && x.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (due == null) break
      due.live = false
      this.t = Math.max(this.t, due.at)
      due.fn()
    }
    this.t = end
  }

  /** Timers not yet fired nor cancelled. */
  get pending (): number {
    return this.timers.filter(x => x.live).length
  }
}

const SEC = 1000

describe('remainingSuspicionTime', () => {
  // memberlist's TestSuspicion_remainingSuspicionTime; memberlist floors to whole ms
  it.each([
    { n: 0, k: 3, elapsed: 0, min: 2 * SEC, max: 30 * SEC, expected: 30 * SEC },
    { n: 1, k: 3, elapsed: 2 * SEC, min: 2 * SEC, max: 30 * SEC, expected: 14 * SEC },
    { n: 2, k: 3, elapsed: 3 * SEC, min: 2 * SEC, max: 30 * SEC, expected: 4810 },
    { n: 3, k: 3, elapsed: 4 * SEC, min: 2 * SEC, max: 30 * SEC, expected: -2 * SEC },
    { n: 4, k: 3, elapsed: 5 * SEC, min: 2 * SEC, max: 30 * SEC, expected: -3 * SEC },
    { n: 5, k: 3, elapsed: 10 * SEC, min: 2 * SEC, max: 30 * SEC, expected: -8 * SEC }
  ])('memberlist: n=$n k=$k elapsed=$elapsed → $expected', ({ n, k, elapsed, min, max, expected }) => {
    const got = remainingSuspicionTime(n, k, elapsed, min, max)
    expect(Math.abs(got - expected)).toBeLessThanOrEqual(1)
  })

  it.each([
    // k = 0: no confirmations expected, the timeout is the minimum
    { n: 0, k: 0, elapsed: 0, min: 500, max: 3000, expected: 500 },
    { n: 0, k: 0, elapsed: 200, min: 500, max: 3000, expected: 300 },
    // k = 1: one confirmation reaches the minimum
    { n: 1, k: 1, elapsed: 0, min: 500, max: 3000, expected: 500 },
    // min == max: confirmations change nothing
    { n: 2, k: 3, elapsed: 100, min: 300, max: 300, expected: 200 },
    // floors to whole ms: 6000 - log(3)/log(4) × 4000 = 2830.07...
    { n: 2, k: 3, elapsed: 0, min: 2000, max: 6000, expected: 2830 }
  ])('edge: n=$n k=$k elapsed=$elapsed min=$min max=$max → $expected', ({ n, k, elapsed, min, max, expected }) => {
    expect(remainingSuspicionTime(n, k, elapsed, min, max)).toBe(expected)
  })

  it('never goes below min - elapsed however many confirmations', () => {
    for (let n = 0; n <= 50; n++) expect(remainingSuspicionTime(n, 3, 0, 2000, 30000)).toBeGreaterThanOrEqual(2000)
  })

  it('falls monotonically as confirmations rise', () => {
    let prev = Infinity
    for (let n = 0; n <= 3; n++) {
      const t = remainingSuspicionTime(n, 3, 0, 2000, 30000)
      expect(t).toBeLessThan(prev)
      prev = t
    }
  })
})

describe('suspicionMinMs', () => {
  // suspicionMult × log10(max(n, 1) + 1) × probeIntervalMs
  it.each([
    { mult: 4, n: 0, interval: 1000, expected: 4 * Math.log10(2) * 1000 },
    { mult: 4, n: 1, interval: 1000, expected: 1204.1199826559248 },
    { mult: 4, n: 2, interval: 200, expected: 381.69700377572997 },
    { mult: 4, n: 9, interval: 1000, expected: 4000 },
    { mult: 4, n: 99, interval: 1000, expected: 8000 },
    { mult: 6, n: 9, interval: 5000, expected: 30000 },
    { mult: 4, n: 999, interval: 500, expected: 6000 },
    { mult: 1, n: -5, interval: 1000, expected: Math.log10(2) * 1000 }
  ])('mult=$mult n=$n interval=$interval → $expected', ({ mult, n, interval, expected }) => {
    expect(suspicionMinMs(mult, n, interval)).toBeCloseTo(expected, 6)
  })
})

describe('Suspicion', () => {
  const K = 3
  const MIN = 2000
  const MAX = 30000

  function start (k = K, min = MIN, max = MAX): { clock: FakeClock, s: Suspicion, fired: () => number } {
    const clock = new FakeClock()
    let count = 0
    const s = new Suspicion(clock, 'a', k, min, max, () => { count++ })
    return { clock, s, fired: () => count }
  }

  /** Advances to just before `at` (expect no fire) and then to `at` (expect one fire). */
  function expectFiresAt (clock: FakeClock, fired: () => number, at: number): void {
    clock.advance(at - 1 - clock.now())
    expect(fired()).toBe(0)
    clock.advance(1)
    expect(fired()).toBe(1)
    clock.advance(10 * MAX)
    expect(fired()).toBe(1)
  }

  it('fires at max with no confirmations, once', () => {
    const { clock, s, fired } = start()
    expect(s.confirmations).toBe(0)
    expectFiresAt(clock, fired, MAX)
  })

  it.each([
    { accusers: [], at: 30000 },
    { accusers: ['b'], at: 16000 },
    { accusers: ['b', 'c'], at: 7810 },
    { accusers: ['b', 'c', 'd'], at: 2000 }
  ])('each new distinct accuser shortens it: $accusers → fires at $at', ({ accusers, at }) => {
    const { clock, s, fired } = start()
    for (const x of accusers) expect(s.confirm(x)).toBe(true)
    expect(s.confirmations).toBe(accusers.length)
    expectFiresAt(clock, fired, at)
  })

  it('measures the shortened timeout from the start, not from the confirmation', () => {
    const { clock, s, fired } = start()
    clock.advance(5000)
    expect(s.confirm('b')).toBe(true)
    expectFiresAt(clock, fired, 16000)
  })

  it('fires at once when a confirmation leaves no time', () => {
    const { clock, s, fired } = start()
    clock.advance(10000)
    expect(s.confirm('b')).toBe(true)
    expect(fired()).toBe(0)
    expect(s.confirm('c')).toBe(true) // 7810 < 10000 elapsed
    clock.advance(0)
    expect(fired()).toBe(1)
  })

  it('ignores the first accuser and duplicate accusers', () => {
    const { clock, s, fired } = start()
    expect(s.confirm('a')).toBe(false)
    expect(s.confirmations).toBe(0)
    expect(s.confirm('b')).toBe(true)
    expect(s.confirm('b')).toBe(false)
    expect(s.confirm('a')).toBe(false)
    expect(s.confirmations).toBe(1)
    expectFiresAt(clock, fired, 16000)
  })

  it('ignores accusers beyond k', () => {
    const { clock, s, fired } = start()
    for (const x of ['b', 'c', 'd']) expect(s.confirm(x)).toBe(true)
    expect(s.confirm('e')).toBe(false)
    expect(s.confirm('f')).toBe(false)
    expect(s.confirmations).toBe(K)
    expectFiresAt(clock, fired, MIN)
  })

  it('ignores an accuser beyond k without re-arming the timer', () => {
    const { clock, s } = start(1, MIN, MAX)
    expect(s.confirm('b')).toBe(true)
    expect(clock.pending).toBe(1)
    expect(s.confirm('c')).toBe(false)
    expect(s.confirmations).toBe(1)
    expect(clock.pending).toBe(1)
  })

  it('with k = 0 fires at min and accepts no confirmation', () => {
    const { clock, s, fired } = start(0, MIN, MAX)
    expect(s.confirm('b')).toBe(false)
    expect(s.confirmations).toBe(0)
    expectFiresAt(clock, fired, MIN)
  })

  it('cancel stops it', () => {
    const { clock, s, fired } = start()
    clock.advance(1000)
    s.cancel()
    clock.advance(10 * MAX)
    expect(fired()).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it('cancel after a confirmation stops the shortened timer', () => {
    const { clock, s, fired } = start()
    expect(s.confirm('b')).toBe(true)
    s.cancel()
    clock.advance(10 * MAX)
    expect(fired()).toBe(0)
  })

  it('cancel is idempotent', () => {
    const { clock, s, fired } = start()
    s.cancel()
    s.cancel()
    clock.advance(10 * MAX)
    expect(fired()).toBe(0)
  })

  // regression: like memberlist, a confirmation only re-arms a timer that is still running
  it('a confirmation after cancel does not revive it', () => {
    const { clock, s, fired } = start()
    s.cancel()
    s.confirm('b')
    clock.advance(10 * MAX)
    expect(fired()).toBe(0)
  })

  // Same cause: after the timeout fired, a confirmation schedules onTimeout again.
  it('a confirmation after it fired does not fire it again', () => {
    const { clock, s, fired } = start()
    clock.advance(MAX)
    expect(fired()).toBe(1)
    s.confirm('b')
    clock.advance(10 * MAX)
    expect(fired()).toBe(1)
  })
})
