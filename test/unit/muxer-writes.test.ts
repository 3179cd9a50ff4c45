import { yamux } from '@chainsafe/libp2p-yamux'
import type { StreamMuxer } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { coalesceSource, coalescingMuxer } from '../../node/gossip/write-coalescing.js'
import { halveWindowUpdates } from '../../node/gossip/yamux-window.js'

// The two changes to what a libp2p connection writes: frames batched per tick,
// window updates only once half the window is used. Two real yamux muxers, wired
// to each other in memory; every chunk each one emits is recorded.

const silent = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false })
const logger = { forComponent: () => silent }
const WINDOW_UPDATE = 1

interface Wire { chunks: Uint8Array[], frames: Array<{ type: number, length: number }> }

// Records a muxer's output as chunks, and as yamux frames (12-byte headers, then data frames' bodies).
function tap (source: AsyncIterable<Uint8Array | Uint8ArrayList>, wire: Wire): AsyncGenerator<Uint8Array> {
  let pending = new Uint8ArrayList()
  return (async function * () {
    for await (const chunk of source) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      wire.chunks.push(bytes)
      pending.append(bytes)
      while (pending.byteLength >= 12) {
        const h = pending.subarray(0, 12)
        const type = h[1]
        const length = new DataView(h.buffer, h.byteOffset).getUint32(8)
        const size = 12 + (type === 0 ? length : 0)
        if (pending.byteLength < size) break
        wire.frames.push({ type, length })
        pending = pending.sublist(size)
      }
      yield bytes
    }
  })()
}

function pair (coalesce: boolean): { a: StreamMuxer, b: StreamMuxer, aOut: Wire, bOut: Wire } {
  const factory = coalesce ? coalescingMuxer(yamux()) : yamux()
  const a = factory({ logger } as any).createStreamMuxer({ direction: 'outbound' })
  const b = factory({ logger } as any).createStreamMuxer({ direction: 'inbound', onIncomingStream: s => { void drain(s) } })
  const aOut: Wire = { chunks: [], frames: [] }
  const bOut: Wire = { chunks: [], frames: [] }
  void b.sink(tap(a.source, aOut))
  void a.sink(tap(b.source, bOut))
  return { a, b, aOut, bOut }
}

const received = new WeakMap<object, number>()
async function drain (s: { source: AsyncIterable<Uint8ArrayList | Uint8Array> }): Promise<void> {
  for await (const c of s.source) received.set(s, (received.get(s) ?? 0) + c.byteLength)
}

const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('yamux window updates', () => {
  halveWindowUpdates()

  it('sends none for a stream of small messages, which use a sliver of the window', async () => {
    const { a, bOut } = pair(false)
    const s = await a.newStream()
    const msgs = Array.from({ length: 200 }, () => new Uint8Array(100).fill(7))
    await s.sink((async function * () { for (const m of msgs) { yield m; await tick() } })())
    await tick()
    // the answering side's first frame carries the ACK flag; after it, nothing about windows
    expect(bOut.frames.filter(f => f.type === WINDOW_UPDATE).length).toBeLessThanOrEqual(1)
    a.abort(new Error('done'))
  })

  it('still refills the sender\'s window: 4 MB (16 windows) arrive whole', async () => {
    const { a, b, bOut } = pair(false)
    const got = new Promise<number>(resolve => {
      (b as any).onIncomingStream = (st: any) => { void drain(st).then(() => { resolve(received.get(st) ?? 0) }) }
    })
    const s = await a.newStream()
    const chunk = new Uint8Array(64 * 1024).fill(1)
    await s.sink((async function * () { for (let i = 0; i < 64; i++) yield chunk })())
    expect(await got).toBe(64 * chunk.byteLength)
    // updates came, but one per half window at most, not one per chunk read
    const updates = bOut.frames.filter(f => f.type === WINDOW_UPDATE).length
    expect(updates).toBeGreaterThan(0)
    expect(updates).toBeLessThan(64)
    a.abort(new Error('done'))
  })
})

describe('write coalescing', () => {
  it('sends a length-prefixed message (prefix and body are two frames) as one chunk', async () => {
    const { a, aOut } = pair(true)
    const s = await a.newStream()
    await tick()
    const before = aOut.chunks.length
    const framesBefore = aOut.frames.length
    // as it-length-prefixed does: the prefix, then the body
    await s.sink((async function * () { yield Uint8Array.of(100); yield new Uint8Array(100) })())
    await tick()
    // the prefix, the body and the stream's close (FIN): three frames, written together
    expect(aOut.frames.length - framesBefore).toBeGreaterThanOrEqual(2)
    expect(aOut.chunks.length - before).toBe(1)
    a.abort(new Error('done'))
  })

  it('batches pushes made in one tick, keeps their order, and flushes the batch before end', async () => {
    const out: Uint8Array[] = []
    let ended = false
    const source = {
      push: (c: Uint8Array | Uint8ArrayList) => { out.push(c instanceof Uint8Array ? c : c.subarray()) },
      end: () => { ended = true }
    }
    coalesceSource(source)
    source.push(Uint8Array.of(1))
    source.push(new Uint8ArrayList(Uint8Array.of(2), Uint8Array.of(3)))
    expect(out).toEqual([])
    await tick()
    expect(out).toEqual([Uint8Array.of(1, 2, 3)])
    source.push(Uint8Array.of(4))
    source.end()
    expect(out).toEqual([Uint8Array.of(1, 2, 3), Uint8Array.of(4)])
    expect(ended).toBe(true)
  })

  it('sends a batch at once when it reaches 64 KB', () => {
    const out: number[] = []
    const source = { push: (c: Uint8Array | Uint8ArrayList) => { out.push(c.byteLength) }, end: () => {} }
    coalesceSource(source)
    source.push(new Uint8Array(40 * 1024))
    source.push(new Uint8Array(40 * 1024))
    expect(out).toEqual([80 * 1024])
  })
})
