import { describe, expect, it } from 'vitest'
import { fullCollection, MemoryReclaimer } from '../../node/memory-reclaimer.js'

const MB = 1024 * 1024
const INIT = { checkMs: 1000, quietMs: 3000, minGrowthBytes: 32 * MB, minGrowthRatio: 0.5, maxUtilization: 0.1 }

// A node whose activity, heap and clock the test sets; collect() drops the heap to `live`.
function fakeNode (): { reclaimer: MemoryReclaimer, set: (s: Partial<{ activity: number, utilization: number, used: number, live: number, now: number }>) => void, collected: () => number } {
  const s = { activity: 0, utilization: 0, used: 100 * MB, live: 100 * MB, now: 0 }
  let collected = 0
  const reclaimer = new MemoryReclaimer({
    activity: () => s.activity,
    utilization: () => s.utilization,
    heapUsed: () => s.used,
    collect: () => { collected++; s.used = s.live },
    now: () => s.now
  }, INIT)
  return { reclaimer, set: v => { Object.assign(s, v) }, collected: () => collected }
}

describe('MemoryReclaimer', () => {
  it('collects once the node has been quiet after the heap grew, then once more a check later', () => {
    const n = fakeNode()
    n.set({ activity: 1, used: 300 * MB, live: 120 * MB, now: 1000 })
    expect(n.reclaimer.check()).toBe(false) // busy
    n.set({ now: 3500 })
    expect(n.reclaimer.check()).toBe(false) // quiet for 2.5 s only
    n.set({ now: 4000 })
    expect(n.reclaimer.check()).toBe(true)
    expect(n.collected()).toBe(1)
    n.set({ now: 5000 })
    expect(n.reclaimer.check()).toBe(true) // the follow-up
    n.set({ now: 6000 })
    expect(n.reclaimer.check()).toBe(false) // nothing grew since
    expect(n.collected()).toBe(2)
  })

  it('leaves a busy node to V8, however much its heap grew', () => {
    const n = fakeNode()
    for (let t = 1; t <= 20; t++) {
      n.set({ activity: t, used: (100 + t * 50) * MB, now: t * 1000 })
      expect(n.reclaimer.check()).toBe(false)
    }
    expect(n.collected()).toBe(0)
  })

  it('counts a busy event loop as activity (reads change no registry version), and drops a pending follow-up', () => {
    const n = fakeNode()
    n.set({ used: 300 * MB, live: 120 * MB, utilization: 0.6 })
    for (let t = 1; t <= 10; t++) {
      n.set({ now: t * 1000 })
      expect(n.reclaimer.check()).toBe(false)
    }
    n.set({ utilization: 0.02, now: 14_000 })
    expect(n.reclaimer.check()).toBe(true)
    // busy again before the follow-up: it is dropped
    n.set({ utilization: 0.5, now: 15_000 })
    expect(n.reclaimer.check()).toBe(false)
    n.set({ utilization: 0, now: 19_000 })
    expect(n.reclaimer.check()).toBe(false) // the heap is at what is live: nothing to do
    expect(n.collected()).toBe(1)
  })

  it('does not collect for growth under both bounds', () => {
    const n = fakeNode()
    // +40 MB is over 32 MB but under half of the 100 MB left after the last collection
    n.set({ used: 140 * MB, now: 10_000 })
    expect(n.reclaimer.check()).toBe(false)
    n.set({ used: 151 * MB, now: 11_000 })
    expect(n.reclaimer.check()).toBe(true)
  })

  it("follows V8's own collections down: growth counts from the lowest heap seen", () => {
    const n = fakeNode()
    n.set({ used: 40 * MB, now: 10_000 })
    expect(n.reclaimer.check()).toBe(false)
    n.set({ used: 75 * MB, now: 11_000 }) // +35 MB over 40: over both bounds
    expect(n.reclaimer.check()).toBe(true)
  })

  it('reads the real event loop: a spell of synchronous work counts as activity', async () => {
    let used = 100 * MB
    let now = 0
    let collected = 0
    const r = new MemoryReclaimer({ activity: () => 0, heapUsed: () => used, collect: () => { collected++; used = 100 * MB }, now: () => now }, INIT)
    used = 400 * MB
    const spin = Date.now()
    while (Date.now() - spin < 200) { /* the loop busy for 200 ms */ }
    now = 10_000
    expect(r.check()).toBe(false)
    await new Promise(resolve => setTimeout(resolve, 300))
    now = 20_000
    expect(r.check()).toBe(true)
    expect(collected).toBe(1)
  })

  it("runs V8's full collection without --expose-gc", async () => {
    const collect = fullCollection()
    expect(collect).toBe(fullCollection())
    let junk: unknown[] | null = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `x${i}` }))
    const weak = new WeakRef(junk)
    junk = null
    // a WeakRef keeps its target until the current job ends
    await new Promise(resolve => setImmediate(resolve))
    collect()
    expect(weak.deref()).toBeUndefined()
  })
})
