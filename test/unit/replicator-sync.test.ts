import { describe, it, expect, vi } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import { Replicator } from '../../node/gossip/replicator.js'
import { batch, clockedRegistry, put, rec, silentLogger } from './registry-fixtures.js'

const PEER = peerIdFromString('12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf')

/** A replicator whose pulls are counted and released by hand (no host: only syncWith runs). */
function replicator (registry: object = {}): { r: Replicator, started: number[], finish: () => void } {
  const r = new Replicator({ host: {} as any, registry: registry as any, logger: silentLogger, peers: () => [], members: () => 1 },
    { nodeId: 'me', epoch: 1, cluster: 't', batchMs: 1, batchMaxOps: 10, antiEntropyIntervalMs: 1000 })
  const started: number[] = []
  const waiting: Array<() => void> = []
  ;(r as any).running = true
  ;(r as any).pull = async () => {
    started.push(started.length + 1)
    await new Promise<void>(resolve => waiting.push(resolve))
  }
  return { r, started, finish: () => { waiting.shift()?.() } }
}

describe('Replicator.syncWith', () => {
  it('asked while a pull runs, runs one more after it and resolves only when that one has (review)', async () => {
    const { r, started, finish } = replicator()
    let firstDone = false
    let secondDone = false
    void r.syncWith(PEER).then(() => { firstDone = true })
    void r.syncWith(PEER).then(() => { secondDone = true })
    void r.syncWith(PEER)
    expect(started).toEqual([1])
    finish()
    await new Promise(resolve => setImmediate(resolve))
    expect(firstDone).toBe(true)
    // the two asks made during pull 1 share pull 2, which has started but not ended
    expect(started).toEqual([1, 2])
    expect(secondDone).toBe(false)
    finish()
    await new Promise(resolve => setImmediate(resolve))
    expect(secondDone).toBe(true)
    expect(started).toEqual([1, 2])
  })
})

describe('Replicator.observe', () => {
  it('a vector hash that differs for an anti-entropy period starts a pull, across a wall-clock step back', async () => {
    const { r, started } = replicator({ vectorHash: () => 'ours' })
    const realNow = Date.now.bind(Date)
    const spy = vi.spyOn(Date, 'now')
    try {
      r.observe(PEER, 'theirs')
      // an hour back: on the wall clock, the difference would last an hour before counting
      spy.mockImplementation(() => realNow() - 3_600_000)
      await new Promise(resolve => setTimeout(resolve, 1100))
      r.observe(PEER, 'theirs')
      expect(started).toEqual([1])
    } finally {
      spy.mockRestore()
    }
  })
})

describe('Replicator answer: push-pull', () => {
  // answer() is the pull's server side; it pulls back from an asker that is ahead of us somewhere
  const answer = (r: Replicator, vector: unknown[]): unknown[] => [...(r as any).answer({ vector }, PEER)]

  it('pulls back from an asker ahead of us, not from one that names a gone owner we dropped (review)', () => {
    const { reg } = clockedRegistry()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'a1'))))
    reg.applyBatch(batch('X', 1, put(1, rec('pay', 'x1', { ownerNode: 'X' }))))
    reg.setLiveness('X', 'gone')
    reg.dropGoneOwners(() => false)
    const { r } = replicator(reg)
    const back = vi.spyOn(r, 'syncIfIdle').mockImplementation(() => {})
    // level with us, and still holding X gone (its head 0/0): nothing to pull, nothing to send
    expect(answer(r, [{ owner: 'A', epoch: 1, seq: 1, liveness: 'alive' }, { owner: 'X', epoch: 0, seq: 0, liveness: 'gone' }])).toEqual([])
    expect(back).not.toHaveBeenCalled()
    // an owner we never heard of, with ops: the asker is ahead
    answer(r, [{ owner: 'A', epoch: 1, seq: 1, liveness: 'alive' }, { owner: 'Y', epoch: 1, seq: 3, liveness: 'alive' }])
    expect(back).toHaveBeenCalledTimes(1)
  })
})
