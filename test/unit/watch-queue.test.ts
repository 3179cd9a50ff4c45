import { describe, it, expect } from 'vitest'
import { CoalescingQueue } from '../../node/registry/watch-queue.js'

function drain<E> (q: CoalescingQueue<E>): E[] {
  const out: E[] = []
  for (let e = q.shift(); e !== undefined; e = q.shift()) out.push(e)
  return out
}

describe('CoalescingQueue', () => {
  it('is FIFO across keys', () => {
    const q = new CoalescingQueue<string>(10)
    q.push('a', 'a1')
    q.push('b', 'b1')
    q.push('c', 'c1')
    expect(q.size).toBe(3)
    expect(drain(q)).toEqual(['a1', 'b1', 'c1'])
    expect(q.size).toBe(0)
    expect(q.shift()).toBeUndefined()
  })

  it('keeps one event per key: the latest, moved to the back', () => {
    const q = new CoalescingQueue<string>(10)
    q.push('a', 'a1')
    q.push('b', 'b1')
    q.push('a', 'a2')
    q.push('c', 'c1')
    q.push('a', 'a3')
    expect(q.size).toBe(3)
    expect(drain(q)).toEqual(['b1', 'c1', 'a3'])
  })

  it.each([
    ['a new key on a full queue is refused', ['a', 'b'], 'c', false, ['a', 'b']],
    ['a pending key on a full queue is replaced', ['a', 'b'], 'a', true, ['b', 'a!']],
    ['a new key below the bound is taken', ['a'], 'c', true, ['a', 'c!']]
  ])('%s', (_name, keys, extra, accepted, order) => {
    const q = new CoalescingQueue<string>(2)
    for (const k of keys) expect(q.push(k, k)).toBe(true)
    expect(q.push(extra, `${extra}!`)).toBe(accepted)
    expect(drain(q)).toEqual(order)
  })

  it('frees room as events are shifted', () => {
    const q = new CoalescingQueue<number>(1)
    expect(q.push('a', 1)).toBe(true)
    expect(q.push('b', 2)).toBe(false)
    expect(q.shift()).toBe(1)
    expect(q.push('b', 2)).toBe(true)
  })

  it('sends the initial part first, unbounded; the bound counts live events only', () => {
    const q = new CoalescingQueue<string>(1)
    for (const k of ['s1', 's2', 's3']) q.pushInitial(k, k)
    q.pushInitial('synced', 'SYNCED')
    expect(q.push('x', 'x1')).toBe(true)
    expect(q.push('y', 'y1')).toBe(false)
    expect(q.size).toBe(5)
    expect(drain(q)).toEqual(['s1', 's2', 's3', 'SYNCED', 'x1'])
  })

  it('replaces an initial event where it stands; a key without one has none', () => {
    const q = new CoalescingQueue<string>(5)
    q.pushInitial('a', 'a0')
    q.pushInitial('b', 'b0')
    q.pushInitial('synced', 'SYNCED')
    expect(q.initialEvent('a')).toBe('a0')
    q.pushInitial('a', 'a1')
    expect(q.initialEvent('c')).toBeUndefined()
    expect(q.push('c', 'c1')).toBe(true)
    expect(drain(q)).toEqual(['a1', 'b0', 'SYNCED', 'c1'])
    expect(q.initialEvent('a')).toBeUndefined()
  })

  it('clear drops everything pending', () => {
    const q = new CoalescingQueue<number>(5)
    q.push('a', 1)
    q.pushInitial('b', 2)
    q.clear()
    expect(q.size).toBe(0)
    expect(q.shift()).toBeUndefined()
    expect(q.push('c', 3)).toBe(true)
    expect(drain(q)).toEqual([3])
  })
})
