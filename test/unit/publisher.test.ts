import { describe, expect, it, vi } from 'vitest'
import { Publisher } from '../../node/gossip/publisher.js'
import type { Op, OpBatch } from '../../node/registry/types.js'
import { silentLogger } from './registry-fixtures.js'

// The owner's batching: a quiet owner's op goes out on the next tick, alone; ops
// that follow a publish within batchMs wait for the window and go out together.

const op = (seq: number): Op => ({ seq, key: `web/i${seq}`, record: null })
const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

function publisher (batchMs: number, maxOps = 100): { p: Publisher, sent: OpBatch[] } {
  const sent: OpBatch[] = []
  const p = new Publisher(async b => { sent.push(b) }, silentLogger, { owner: 'A', epoch: 3, batchMs, maxOps })
  return { p, sent }
}

describe('Publisher', () => {
  it('sends a quiet owner\'s op on the next tick, with the others written in the same tick', async () => {
    const { p, sent } = publisher(10_000)
    p.enqueue(op(1))
    p.enqueue(op(2))
    expect(sent).toEqual([])
    await tick()
    expect(sent).toEqual([{ owner: 'A', epoch: 3, ops: [op(1), op(2)] }])
  })

  it('holds ops that follow a publish until the window closes, then sends them as one batch', () => {
    // virtual time: the window is 40 ms whatever the machine's load
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'] })
    try {
      const { p, sent } = publisher(40)
      p.enqueue(op(1))
      vi.advanceTimersByTime(1)
      p.enqueue(op(2))
      vi.advanceTimersByTime(20)
      p.enqueue(op(3))
      vi.advanceTimersByTime(10)
      // still inside the window opened by the first publish
      expect(sent.map(b => b.ops.map(o => o.seq))).toEqual([[1]])
      vi.advanceTimersByTime(10)
      expect(sent.map(b => b.ops.map(o => o.seq))).toEqual([[1], [2, 3]])
    } finally {
      vi.useRealTimers()
    }
  })

  it('splits a long queue into batches of at most maxOps, in order', async () => {
    const { p, sent } = publisher(0, 2)
    for (let i = 1; i <= 5; i++) p.enqueue(op(i))
    await tick()
    expect(sent.map(b => b.ops.map(o => o.seq))).toEqual([[1, 2], [3, 4], [5]])
  })

  it('stop sends what is queued at once and leaves no timer behind', async () => {
    const { p, sent } = publisher(10_000)
    p.enqueue(op(1))
    await tick()
    p.enqueue(op(2))
    p.stop()
    expect(sent.map(b => b.ops.map(o => o.seq))).toEqual([[1], [2]])
    await tick()
    expect(sent).toHaveLength(2)
  })

  it('a failed send does not stop the next one', async () => {
    let calls = 0
    const sent: OpBatch[] = []
    const p = new Publisher(async b => { if (++calls === 1) throw new Error('no peers'); sent.push(b) }, silentLogger, { owner: 'A', epoch: 1, batchMs: 0, maxOps: 10 })
    p.enqueue(op(1))
    await tick()
    p.enqueue(op(2))
    await tick()
    expect(sent.map(b => b.ops.map(o => o.seq))).toEqual([[2]])
  })
})
