import { describe, expect, it } from 'vitest'
import { FakeClock } from './fake-clock.js'
import { ProcessClock } from './process-clock.js'

describe('FakeClock', () => {
  it('fires due timers in time order, ties in the order they were scheduled', () => {
    const clock = new FakeClock()
    const fired: string[] = []
    clock.setTimeout(() => { fired.push(`c@${clock.now()}`) }, 30)
    clock.setTimeout(() => { fired.push(`a@${clock.now()}`) }, 10)
    clock.setTimeout(() => { fired.push(`b@${clock.now()}`) }, 10)
    clock.setTimeout(() => { fired.push('late') }, 31)
    clock.advance(30)
    expect(fired).toEqual(['a@10', 'b@10', 'c@30'])
    expect(clock.now()).toBe(30)
  })

  // [delay of the timer scheduled at t=5 by another timer, fires within advance(20)?]
  it.each([[0, true], [15, true], [16, false]])('a timer scheduled while advancing with delay %i fires in the window: %s', (delay, fires) => {
    const clock = new FakeClock()
    let fired = false
    clock.setTimeout(() => { clock.setTimeout(() => { fired = true }, delay) }, 5)
    clock.advance(20)
    expect(fired).toBe(fires)
  })

  it('never fires a cancelled timer', () => {
    const clock = new FakeClock()
    let fired = false
    clock.setTimeout(() => { fired = true }, 5).cancel()
    clock.advance(10)
    expect(fired).toBe(false)
    expect(clock.pending).toBe(0)
  })

  it('runFor resumes async code at the virtual time its promise settled', async () => {
    const clock = new FakeClock()
    const seen: number[] = []
    const sleep = async (ms: number): Promise<void> => { await new Promise<void>(resolve => { clock.setTimeout(resolve, ms) }) }
    void (async () => {
      await sleep(10)
      seen.push(clock.now())
      await sleep(5)
      seen.push(clock.now())
    })()
    await clock.runFor(100)
    expect(seen).toEqual([10, 15])
    expect(clock.now()).toBe(100)
  })
})

describe('ProcessClock', () => {
  it('holds what falls due while paused and runs it at resume, oldest first', async () => {
    const clock = new FakeClock()
    const proc = new ProcessClock(clock)
    const fired: string[] = []
    proc.setTimeout(() => { fired.push(`b@${clock.now()}`) }, 20)
    proc.setTimeout(() => { fired.push(`a@${clock.now()}`) }, 10)
    proc.pause()
    clock.setTimeout(() => { proc.resume() }, 50)
    await clock.runFor(100)
    expect(fired).toEqual(['a@50', 'b@50'])
  })

  it('runs nothing once crashed, and nothing cancelled while paused', async () => {
    const clock = new FakeClock()
    const proc = new ProcessClock(clock)
    let fired = 0
    const handle = proc.setTimeout(() => { fired++ }, 10)
    proc.pause()
    await clock.runFor(20)
    handle.cancel()
    proc.resume()
    proc.setTimeout(() => { fired++ }, 10)
    proc.crash()
    await clock.runFor(50)
    expect(fired).toBe(0)
    expect(proc.state).toBe('crashed')
  })
})
