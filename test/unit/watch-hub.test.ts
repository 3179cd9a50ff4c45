import { describe, it, expect, vi } from 'vitest'
import { pino } from 'pino'
import { WatcherOverflowError } from '../../node/errors.js'
import { WatchHub } from '../../node/registry/watch-hub.js'
import type { WatchEvent, WatchFilter, WatchSink } from '../../node/registry/watch-hub.js'
import type { Registry } from '../../node/registry/registry.js'
import { decodeVector } from '../../node/registry/version-vector.js'
import type { VectorEntry } from '../../node/registry/types.js'
import { batch, clockedRegistry, del, put, rec } from './registry-fixtures.js'
import { waitFor } from '../../cluster/wait.js'

interface TestSink extends WatchSink {
  readonly events: WatchEvent[]
  readonly failures: Error[]
  /** from now on write() answers false (the event is still taken) */
  pause: () => void
  /** write() answers true again and the pending onDrain callback runs */
  release: () => void
}

function testSink (): TestSink {
  const events: WatchEvent[] = []
  const failures: Error[] = []
  let ready = true
  let drain: (() => void) | undefined
  return {
    events,
    failures,
    write: ev => { events.push(ev); return ready },
    onDrain: cb => { drain = cb },
    fail: err => { failures.push(err) },
    pause: () => { ready = false },
    release: () => { ready = true; const cb = drain; drain = undefined; cb?.() }
  }
}

/** 'UPSERT pay/p1', 'DELETE pay/p1' or 'SYNCED'. */
function show (ev: WatchEvent): string {
  if (ev.type === 'SYNCED' || ev.type === 'RESET') return ev.type
  if (ev.type === 'DELETE') return `DELETE ${ev.service}/${ev.instanceId}`
  return `UPSERT ${ev.record.service}/${ev.record.instanceId}`
}

const ALL: WatchFilter = { service: '', tags: [] }

function setup (init: { queueMax?: number, catchUpMs?: number } = {}): { reg: Registry, hub: WatchHub, clock: { t: number }, catchUp: ReturnType<typeof vi.fn>, warn: ReturnType<typeof vi.spyOn> } {
  const { reg, clock } = clockedRegistry()
  const logger = pino({ level: 'silent' })
  const warn = vi.spyOn(logger, 'warn')
  const catchUp = vi.fn()
  const hub = new WatchHub({ registry: reg, logger, requestCatchUp: catchUp }, { queueMax: 100, catchUpMs: 5000, ...init })
  return { reg, hub, clock, catchUp, warn }
}

/** Seeds owner A with pay/p1 (blue), pay/p2, cart/c1 at seqs 1..3. */
function seed (reg: Registry): void {
  reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1', { tags: ['blue'] })), put(2, rec('pay', 'p2')), put(3, rec('cart', 'c1'))))
}

const tokenNow = (hub: WatchHub): VectorEntry[] => decodeVector(hub.token())

describe('WatchHub: fresh watch', () => {
  it('sends the snapshot, then SYNCED, then live changes, each with the current token', () => {
    const { reg, hub } = setup()
    seed(reg)
    const s = testSink()
    hub.open(ALL, null, s)
    expect(s.events.map(show).sort()).toEqual(['SYNCED', 'UPSERT cart/c1', 'UPSERT pay/p1', 'UPSERT pay/p2'])
    expect(s.events.at(-1)?.type).toBe('SYNCED')
    expect(decodeVector(s.events.at(-1)!.token)).toEqual(reg.vector())
    reg.applyBatch(batch('A', 1, put(4, rec('pay', 'p3'))))
    expect(s.events.slice(4).map(show)).toEqual(['UPSERT pay/p3'])
    expect(decodeVector(s.events[4].token)).toEqual([{ owner: 'A', epoch: 1, seq: 4, liveness: 'alive' }])
    expect(hub.size).toBe(1)
  })

  it('filters by service, for the snapshot and live changes', () => {
    const { reg, hub } = setup()
    seed(reg)
    const s = testSink()
    hub.open({ service: 'pay', tags: [] }, null, s)
    reg.applyBatch(batch('A', 1, put(4, rec('cart', 'c2')), del(5, 'cart/c1'), del(6, 'pay/p2')))
    expect(s.events.map(show)).toEqual(['UPSERT pay/p1', 'UPSERT pay/p2', 'SYNCED', 'DELETE pay/p2'])
  })

  it('an unknown service gives only SYNCED', () => {
    const { reg, hub } = setup()
    seed(reg)
    const s = testSink()
    hub.open({ service: 'nope', tags: [] }, null, s)
    expect(s.events.map(show)).toEqual(['SYNCED'])
  })

  it('filters by tags: DELETE when a record stops matching, UPSERT when it starts', () => {
    const { reg, hub } = setup()
    seed(reg)
    const s = testSink()
    hub.open({ service: 'pay', tags: ['blue'] }, null, s)
    expect(s.events.map(show)).toEqual(['UPSERT pay/p1', 'SYNCED'])
    reg.applyBatch(batch('A', 1, put(4, rec('pay', 'p1', { tags: ['green'], updatedAtMs: 2000 }))))
    reg.applyBatch(batch('A', 1, put(5, rec('pay', 'p2', { tags: ['green', 'blue'], updatedAtMs: 2000 }))))
    expect(s.events.slice(2).map(show)).toEqual(['DELETE pay/p1', 'UPSERT pay/p2'])
    expect(s.events[2]).toMatchObject({ type: 'DELETE', service: 'pay', instanceId: 'p1' })
  })

  it('shows a DEAD owner\'s records as CRITICAL upserts', () => {
    const { reg, hub } = setup()
    seed(reg)
    const s = testSink()
    hub.open({ service: 'cart', tags: [] }, null, s)
    reg.setLiveness('A', 'dead')
    expect(s.events.slice(2)).toMatchObject([{ type: 'UPSERT', record: { instanceId: 'c1', status: 'CRITICAL' } }])
  })
})

describe('WatchHub: a slow watcher', () => {
  it('coalesces to the latest state per key while the sink is full, then drains in order', () => {
    const { reg, hub } = setup()
    const s = testSink()
    hub.open(ALL, null, s)
    s.pause()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    expect(s.events.map(show)).toEqual(['SYNCED', 'UPSERT pay/p1'])
    reg.applyBatch(batch('A', 1, put(2, rec('pay', 'p2'))))
    reg.applyBatch(batch('A', 1, put(3, rec('pay', 'p1', { updatedAtMs: 3000 }))))
    reg.applyBatch(batch('A', 1, put(4, rec('pay', 'p3'))))
    reg.applyBatch(batch('A', 1, put(5, rec('pay', 'p1', { updatedAtMs: 5000 }))))
    expect(s.events).toHaveLength(2)
    s.release()
    expect(s.events.slice(2).map(show)).toEqual(['UPSERT pay/p2', 'UPSERT pay/p3', 'UPSERT pay/p1'])
    const last = s.events.at(-1)!
    expect(last.type === 'UPSERT' && last.record.updatedAtMs).toBe(5000)
    expect(decodeVector(last.token)[0].seq).toBe(5)
    expect(s.failures).toEqual([])
  })

  it('is cut off with WatcherOverflowError when its queue overflows, and hears nothing more', () => {
    const { reg, hub } = setup({ queueMax: 2 })
    const s = testSink()
    hub.open(ALL, null, s)
    s.pause()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    reg.applyBatch(batch('A', 1, put(2, rec('pay', 'p2')), put(3, rec('pay', 'p3'))))
    expect(s.failures).toEqual([])
    reg.applyBatch(batch('A', 1, put(4, rec('pay', 'p4'))))
    expect(s.failures).toHaveLength(1)
    expect(s.failures[0]).toBeInstanceOf(WatcherOverflowError)
    expect(hub.size).toBe(0)
    const written = s.events.length
    s.release()
    reg.applyBatch(batch('A', 1, put(5, rec('pay', 'p5'))))
    expect(s.events).toHaveLength(written)
  })
})

describe('WatchHub: closing', () => {
  it('a closed watch hears nothing more; closing the hub detaches every watcher', () => {
    const { reg, hub } = setup()
    const a = testSink()
    const b = testSink()
    const ha = hub.open(ALL, null, a)
    hub.open(ALL, null, b)
    ha.close()
    expect(hub.size).toBe(1)
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    expect(a.events.map(show)).toEqual(['SYNCED'])
    expect(b.events.map(show)).toEqual(['SYNCED', 'UPSERT pay/p1'])
    hub.close()
    expect(hub.size).toBe(0)
    reg.applyBatch(batch('A', 1, put(2, rec('pay', 'p2'))))
    expect(b.events).toHaveLength(2)
  })

  it('caches the token while the vector is unchanged', () => {
    const { reg, hub } = setup()
    seed(reg)
    const t1 = hub.token()
    expect(hub.token()).toBe(t1)
    reg.applyBatch(batch('A', 1, put(4, rec('pay', 'p4'))))
    expect(hub.token()).not.toBe(t1)
    expect(tokenNow(hub)[0].seq).toBe(4)
  })
})

describe('WatchHub: resume', () => {
  it('from the current token sends only SYNCED', () => {
    const { reg, hub, catchUp } = setup()
    seed(reg)
    const s = testSink()
    hub.open(ALL, tokenNow(hub), s)
    expect(s.events.map(show)).toEqual(['SYNCED'])
    expect(catchUp).not.toHaveBeenCalled()
  })

  it('from an older token sends only the keys changed since (DELETEs included), then SYNCED', () => {
    const { reg, hub } = setup()
    seed(reg)
    const old = tokenNow(hub)
    reg.applyBatch(batch('A', 1, put(4, rec('pay', 'p2', { updatedAtMs: 4000 })), del(5, 'cart/c1'), put(6, rec('pay', 'p9'))))
    const s = testSink()
    hub.open(ALL, old, s)
    expect(s.events.map(show)).toEqual(['UPSERT pay/p2', 'DELETE cart/c1', 'UPSERT pay/p9', 'SYNCED'])
    expect(decodeVector(s.events.at(-1)!.token)).toEqual(reg.vector())
  })

  it('applies the filter: a record that stopped matching comes as DELETE', () => {
    const { reg, hub } = setup()
    seed(reg)
    const old = tokenNow(hub)
    reg.applyBatch(batch('A', 1, put(4, rec('pay', 'p1', { tags: [], updatedAtMs: 4000 })), put(5, rec('cart', 'c1', { updatedAtMs: 4000 }))))
    const s = testSink()
    hub.open({ service: 'pay', tags: ['blue'] }, old, s)
    expect(s.events.map(show)).toEqual(['DELETE pay/p1', 'SYNCED'])
  })

  it('sends every record of an owner whose liveness changed since the token', () => {
    const { reg, hub } = setup()
    seed(reg)
    reg.applyBatch(batch('B', 1, put(1, rec('shop', 's1', { ownerNode: 'B' }))))
    const old = tokenNow(hub)
    reg.setLiveness('A', 'dead')
    const s = testSink()
    hub.open(ALL, old, s)
    expect(s.events.map(show).sort()).toEqual(['SYNCED', 'UPSERT cart/c1', 'UPSERT pay/p1', 'UPSERT pay/p2'])
    expect(s.events.every(e => e.type !== 'UPSERT' || e.record.status === 'CRITICAL')).toBe(true)
  })

  it('from a token ahead of this node: asks for catch-up, waits, then completes', async () => {
    const { reg, hub, catchUp } = setup()
    const { reg: ahead } = clockedRegistry()
    const ops = [put(1, rec('pay', 'p1')), put(2, rec('pay', 'p2')), put(3, rec('pay', 'p3')), put(4, rec('pay', 'p4'))]
    reg.applyBatch(batch('A', 1, ...ops.slice(0, 2)))
    ahead.applyBatch(batch('A', 1, ...ops.slice(0, 3)))
    const s = testSink()
    hub.open(ALL, ahead.vector(), s)
    expect(catchUp).toHaveBeenCalled()
    expect(s.events).toEqual([])
    await vi.waitFor(() => { expect(catchUp.mock.calls.length).toBeGreaterThan(1) }, { timeout: 10_000 })
    expect(s.events).toEqual([])
    // anti-entropy brings this node past the token
    reg.applyBatch(batch('A', 1, ...ops.slice(2)))
    await vi.waitFor(() => { expect(s.events.at(-1)?.type).toBe('SYNCED') }, { timeout: 10_000 })
    expect(s.events.map(show)).toEqual(['UPSERT pay/p4', 'SYNCED'])
  })

  it('from a token that stays ahead: after catchUpMs, RESET then a fresh snapshot', async () => {
    const { reg, hub, catchUp, warn } = setup({ catchUpMs: 150 })
    seed(reg)
    const s = testSink()
    hub.open(ALL, [{ owner: 'A', epoch: 1, seq: 99, liveness: 'alive' }], s)
    await vi.waitFor(() => { expect(s.events.at(-1)?.type).toBe('SYNCED') }, { timeout: 10_000 })
    // RESET first: the watcher drops what it holds, since the snapshot carries no DELETEs
    expect(show(s.events[0])).toBe('RESET')
    expect(s.events.slice(1).map(show).sort()).toEqual(['SYNCED', 'UPSERT cart/c1', 'UPSERT pay/p1', 'UPSERT pay/p2'])
    expect(catchUp).toHaveBeenCalled()
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('from a token that stays ahead, across a wall-clock step back: the wait still ends after catchUpMs', async () => {
    const { reg, hub } = setup({ catchUpMs: 150 })
    seed(reg)
    const s = testSink()
    const realNow = Date.now.bind(Date)
    // an hour back: on the wall clock, the wait was due to end an hour and 150 ms later
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 3_600_000)
    try {
      hub.open(ALL, [{ owner: 'A', epoch: 1, seq: 99, liveness: 'alive' }], s)
      spy.mockImplementation(() => realNow() - 7_200_000)
      await vi.waitFor(() => { expect(s.events.at(-1)?.type).toBe('SYNCED') }, { timeout: 3000 })
      expect(show(s.events[0])).toBe('RESET')
    } finally {
      spy.mockRestore()
    }
  })

  it('a waiting watcher that is closed never sends', () => {
    vi.useFakeTimers()
    try {
      const { reg, hub, catchUp } = setup({ catchUpMs: 100 })
      seed(reg)
      const s = testSink()
      const h = hub.open(ALL, [{ owner: 'A', epoch: 1, seq: 99, liveness: 'alive' }], s)
      h.close()
      const calls = catchUp.mock.calls.length
      vi.advanceTimersByTime(1000)
      expect(s.events).toEqual([])
      expect(catchUp.mock.calls.length).toBe(calls)
      expect(hub.size).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })

  // regression: a reaped owner's head is reset, yet an older token must get DELETEs, not a wait
  it("from a token taken before an owner was reaped: RESET, then only what is left (the gone owner's records dropped)", async () => {
    const { reg, hub } = setup({ catchUpMs: 100 })
    seed(reg)
    reg.applyBatch(batch('B', 1, put(1, rec('shop', 's1', { ownerNode: 'B' }))))
    const old = tokenNow(hub)
    reg.setLiveness('A', 'dead')
    reg.setLiveness('A', 'gone')
    const s = testSink()
    hub.open(ALL, old, s)
    await vi.waitFor(() => { expect(s.events.at(-1)?.type).toBe('SYNCED') }, { timeout: 10_000 })
    // this node cannot tell which of A's keys the watcher holds (A was forgotten): RESET is exact
    expect(s.events.map(show)).toEqual(['RESET', 'UPSERT shop/s1', 'SYNCED'])
  })
})

describe('WatchHub resume tokens inside a batch (chaos run bug A)', () => {
  it('only the last event of a batch carries the state after it; a resume from an earlier one gets the rest', () => {
    const { reg, hub } = setup()
    const sink = testSink()
    hub.open(ALL, null, sink)
    const before = hub.token()
    seed(reg)
    const live = sink.events.filter(e => e.type !== 'SYNCED')
    expect(live.map(show)).toEqual(['UPSERT pay/p1', 'UPSERT pay/p2', 'UPSERT cart/c1'])
    expect(live.slice(0, 2).every(e => Buffer.from(e.token).equals(Buffer.from(before)))).toBe(true)
    expect(Buffer.from(live[2].token).equals(Buffer.from(hub.token()))).toBe(true)
    // cut after the first event: resuming from its token sends the whole batch again
    // (here the token before the batch is the empty one, which resumes as RESET and a snapshot)
    const resumed = testSink()
    hub.open(ALL, decodeVector(live[0].token), resumed)
    expect(resumed.events.map(show)).toEqual(['RESET', 'UPSERT pay/p1', 'UPSERT pay/p2', 'UPSERT cart/c1', 'SYNCED'])
  })

  it('a watch opened after changes nobody watched: the first batch\'s earlier events carry the state at its opening', () => {
    const { reg, hub } = setup()
    // with no watcher, batches encode no token
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p0'))))
    const sink = testSink()
    hub.open(ALL, null, sink)
    const synced = sink.events.find(e => e.type === 'SYNCED')!
    reg.applyBatch(batch('A', 1, put(2, rec('pay', 'p1')), put(3, rec('pay', 'p2'))))
    const live = sink.events.slice(sink.events.indexOf(synced) + 1)
    expect(live.map(show)).toEqual(['UPSERT pay/p1', 'UPSERT pay/p2'])
    expect(decodeVector(live[0].token)).toEqual(decodeVector(synced.token))
    expect(decodeVector(live[0].token)[0].seq).toBe(1)
    expect(decodeVector(live[1].token)[0].seq).toBe(3)
  })

  it('snapshot events carry the empty token: resumed mid-snapshot, RESET and the snapshot come again', () => {
    const { reg, hub } = setup()
    seed(reg)
    const sink = testSink()
    hub.open(ALL, null, sink)
    const first = sink.events[0]
    expect(decodeVector(first.token)).toEqual([])
    const resumed = testSink()
    hub.open(ALL, decodeVector(first.token), resumed)
    const shown = resumed.events.map(show)
    expect(shown[0]).toBe('RESET')
    expect(shown.slice(1).sort()).toEqual(['SYNCED', 'UPSERT cart/c1', 'UPSERT pay/p1', 'UPSERT pay/p2'])
  })

  it('resumed from a snapshot event after the deleted key\'s tombstone was pruned: RESET, so the watcher drops it (review)', () => {
    const { reg, hub, clock } = setup()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1')), put(2, rec('pay', 'p2'))))
    const s = testSink()
    s.pause()
    hub.open(ALL, null, s)
    // the client got the first snapshot event only, then the connection dropped
    expect(s.events.map(show)).toEqual(['UPSERT pay/p1'])
    reg.applyBatch(batch('A', 1, del(3, 'pay/p1')))
    clock.t += 11 * 60_000
    expect(reg.prune(10 * 60_000, 100_000)).toBe(1)
    const r = testSink()
    hub.open(ALL, decodeVector(s.events[0].token), r)
    expect(r.events.map(show)).toEqual(['RESET', 'UPSERT pay/p2', 'SYNCED'])
  })
})

describe('WatchHub: a slow watcher still in its snapshot (review)', () => {
  it('a key changed while its snapshot event waits is updated in place, before SYNCED, with the snapshot token', () => {
    const { reg, hub } = setup()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1')), put(2, rec('pay', 'p2')), put(3, rec('pay', 'p3'))))
    const s = testSink()
    s.pause()
    hub.open(ALL, null, s)
    reg.applyBatch(batch('A', 1, put(4, rec('pay', 'p2', { status: 'WARNING', updatedAtMs: 2000 })), put(5, rec('pay', 'p4'))))
    s.release()
    expect(s.events.map(show)).toEqual(['UPSERT pay/p1', 'UPSERT pay/p2', 'UPSERT pay/p3', 'SYNCED', 'UPSERT pay/p4'])
    const p2 = s.events[1]
    expect(p2.type === 'UPSERT' && p2.record.status).toBe('WARNING')
    expect(decodeVector(p2.token)).toEqual([])
    expect(decodeVector(s.events[4].token)[0].seq).toBe(5)
  })

  it('a snapshot larger than the queue bound does not count against it: live changes still fit', () => {
    const { reg, hub } = setup({ queueMax: 3 })
    reg.applyBatch(batch('A', 1, ...[1, 2, 3, 4, 5].map(i => put(i, rec('pay', `p${i}`)))))
    const s = testSink()
    s.pause()
    hub.open(ALL, null, s)
    reg.applyBatch(batch('A', 1, put(6, rec('pay', 'p6'))))
    reg.applyBatch(batch('A', 1, put(7, rec('pay', 'p7')), put(8, rec('pay', 'p8'))))
    expect(s.failures).toEqual([])
    // a fourth live key is past the bound
    reg.applyBatch(batch('A', 1, put(9, rec('pay', 'p9'))))
    expect(s.failures).toHaveLength(1)
    expect(s.failures[0]).toBeInstanceOf(WatcherOverflowError)
  })
})

describe('WatchHub resume with an owner whose tombstones were pruned', () => {
  it('a token that does not name the owner cannot tell what the watcher holds of it: RESET and a snapshot', () => {
    const { reg, hub, clock } = setup()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    const old = tokenNow(hub)
    reg.applyBatch(batch('B', 1, put(1, rec('cart', 'c1')), put(2, rec('cart', 'c2'))))
    reg.applyBatch(batch('B', 1, del(3, 'cart/c1')))
    clock.t += 11 * 60_000
    expect(reg.prune(10 * 60_000, 100_000)).toBe(1)
    const s = testSink()
    hub.open(ALL, old, s)
    expect(s.events.map(show)).toEqual(['RESET', 'UPSERT pay/p1', 'UPSERT cart/c2', 'SYNCED'])
  })

  it('with every tombstone of the owner still there, only its keys come, DELETEs included', () => {
    const { reg, hub } = setup()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    const old = tokenNow(hub)
    reg.applyBatch(batch('B', 1, put(1, rec('cart', 'c1')), put(2, rec('cart', 'c2'))))
    reg.applyBatch(batch('B', 1, del(3, 'cart/c1')))
    const s = testSink()
    hub.open(ALL, old, s)
    expect(s.events.map(show)).toEqual(['DELETE cart/c1', 'UPSERT cart/c2', 'SYNCED'])
  })
})

describe('WatchHub resume with an owner the watcher saw nothing of', () => {
  it('still sends the changes of every other owner (an early return once skipped them)', () => {
    const { reg, hub } = setup()
    reg.owner('Z') // known here first, so it is met first when owners are walked
    seed(reg)
    const old = [...tokenNow(hub), { owner: 'Z', epoch: 5, seq: 0, liveness: 'alive' as const }]
    reg.applyBatch(batch('A', 1, del(4, 'pay/p2')))
    const s = testSink()
    hub.open(ALL, old, s)
    expect(s.events.map(show)).toEqual(['DELETE pay/p2', 'SYNCED'])
  })
})

describe('WatchHub resume after a member left for good (review)', () => {
  it('from the current token, nothing: neither its deletes again nor, once its tombstones are pruned, a RESET', () => {
    const { reg, hub, clock } = setup()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1')), put(2, rec('pay', 'p2'))))
    reg.applyBatch(batch('B', 1, put(1, rec('cart', 'c1', { ownerNode: 'B' })), put(2, rec('cart', 'c2', { ownerNode: 'B' }))))
    reg.setLiveness('B', 'dead')
    reg.setLiveness('B', 'gone')
    const before = testSink()
    hub.open(ALL, tokenNow(hub), before)
    expect(before.events.map(show)).toEqual(['SYNCED'])
    // the tombstone retention passes and the node prunes
    clock.t += 11 * 60_000
    expect(reg.prune(10 * 60_000, 100_000)).toBe(2)
    const after = testSink()
    hub.open(ALL, tokenNow(hub), after)
    expect(after.events.map(show)).toEqual(['SYNCED'])
  })

  it('from a token cut mid-batch, before the owner was known (its records may be held), its deletes', () => {
    const { reg, hub } = setup()
    reg.applyBatch(batch('B', 1, put(1, rec('pay', 'b1', { ownerNode: 'B' }))))
    const s = testSink()
    hub.open(ALL, null, s)
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'a1')), put(2, rec('pay', 'a2'))))
    // the stream is cut after UPSERT a1: its token is from before A's batch, and names no A
    const cut = s.events.find(e => e.type === 'UPSERT' && e.record.instanceId === 'a1') as { token: Uint8Array }
    expect(decodeVector(cut.token).map(e => e.owner)).toEqual(['B'])
    reg.setLiveness('A', 'gone')
    const again = testSink()
    hub.open(ALL, decodeVector(cut.token), again)
    expect(again.events.map(show)).toEqual(['DELETE pay/a1', 'DELETE pay/a2', 'SYNCED'])
  })

  it('once membership forgot it and its state was dropped: a token from after it left resumes with nothing to send', () => {
    const { reg, hub } = setup()
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    reg.applyBatch(batch('B', 1, put(1, rec('cart', 'c1', { ownerNode: 'B' }))))
    reg.setLiveness('B', 'gone')
    const afterLeft = tokenNow(hub)
    expect(reg.dropGoneOwners(id => id === 'A')).toBe(1)
    const s = testSink()
    hub.open(ALL, afterLeft, s)
    expect(s.events.map(show)).toEqual(['SYNCED'])
  })

  it('once its state was dropped: a token from while it was alive gets a RESET at once (its deletes cannot be told)', () => {
    const { reg, hub, catchUp } = setup({ catchUpMs: 60_000 })
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1'))))
    reg.applyBatch(batch('B', 1, put(1, rec('cart', 'c1', { ownerNode: 'B' }))))
    const whileAlive = tokenNow(hub)
    reg.setLiveness('B', 'gone')
    reg.dropGoneOwners(id => id === 'A')
    const s = testSink()
    hub.open(ALL, whileAlive, s)
    expect(s.events.map(show)).toEqual(['RESET', 'UPSERT pay/p1', 'SYNCED'])
    // not taken for an owner this node has not heard of yet: no wait, no catch-up
    expect(catchUp).not.toHaveBeenCalled()
  })

  it('from a token made while it was alive, a RESET (the watcher holds its records; the forgotten owner has no delta)', () => {
    const { reg, hub } = setup()
    reg.applyBatch(batch('B', 1, put(1, rec('cart', 'c1', { ownerNode: 'B' }))))
    const old = tokenNow(hub)
    reg.setLiveness('B', 'gone')
    const s = testSink()
    hub.open(ALL, old, s)
    expect(s.events.map(show)).toEqual(['RESET', 'SYNCED'])
  })
})

describe('WatchHub resume from a token at an owner\'s newer epoch with no ops yet (review)', () => {
  it('a node still holding the older epoch catches up first instead of sending its records again', async () => {
    const { reg, hub, catchUp } = setup({ catchUpMs: 60_000 })
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'p1')), put(2, rec('pay', 'p2'))))
    const s = testSink()
    // made where A's restart (epoch 2, its records expired while it was down) was already known
    hub.open(ALL, [{ owner: 'A', epoch: 2, seq: 0, liveness: 'alive' }], s)
    expect(catchUp).toHaveBeenCalled()
    expect(s.events).toEqual([])
    // the catch-up brings A's epoch 2; the watcher, made after its deletes, holds nothing of A
    reg.applySnapshot({ owner: 'A', epoch: 2, seq: 0, floor: { epoch: 2, seq: 0 }, entries: [] }, 'A')
    await waitFor(() => s.events.length > 0, { message: 'the resume to go on once caught up' })
    expect(s.events.map(show)).toEqual(['SYNCED'])
    expect(decodeVector((s.events[0] as { token: Uint8Array }).token)).toEqual([{ owner: 'A', epoch: 2, seq: 0, liveness: 'alive' }])
  })

  it('an owner at epoch 2, seq 0 that this node has no records of is no reason to wait', () => {
    const { reg, hub, catchUp } = setup()
    reg.setLiveness('C', 'alive')
    const s = testSink()
    hub.open(ALL, [{ owner: 'C', epoch: 2, seq: 0, liveness: 'alive' }], s)
    expect(catchUp).not.toHaveBeenCalled()
    expect(s.events.map(show)).toEqual(['SYNCED'])
  })
})

describe('WatchHub with a tags filter: records that never matched (review)', () => {
  it('a change of a record matching neither before nor after is nothing to the watcher, and does not count against its bound', () => {
    const { reg, hub } = setup({ queueMax: 3 })
    reg.applyBatch(batch('A', 1, put(1, rec('pay', 'blue1', { tags: ['blue'] })), ...[2, 3, 4, 5].map(i => put(i, rec('pay', `red${i}`, { tags: ['red'] })))))
    const s = testSink()
    hub.open({ service: 'pay', tags: ['blue'] }, null, s)
    expect(s.events.map(show)).toEqual(['UPSERT pay/blue1', 'SYNCED'])
    s.pause()
    reg.applyBatch(batch('A', 1, ...[2, 3, 4, 5].map((i, j) => put(6 + j, rec('pay', `red${i}`, { tags: ['red'], status: 'WARNING', updatedAtMs: 2000 })))))
    expect(s.failures).toEqual([])
    // a record that stops matching is a DELETE
    reg.applyBatch(batch('A', 1, put(10, rec('pay', 'blue1', { tags: ['red'], updatedAtMs: 2000 }))))
    s.release()
    expect(s.events.map(show)).toEqual(['UPSERT pay/blue1', 'SYNCED', 'DELETE pay/blue1'])
  })
})
