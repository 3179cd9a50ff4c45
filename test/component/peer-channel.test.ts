import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../cluster/wait.js'
import { ProtocolError } from '../../node/errors.js'
import { createHost, toMultiaddr } from '../../node/gossip/host.js'
import type { Host } from '../../node/gossip/host.js'
import { CHANNEL_PROTOCOL, PeerChannels } from '../../node/gossip/peer-channel.js'
import type { ChannelHandler } from '../../node/gossip/peer-channel.js'

// Real libp2p hosts over TCP on 127.0.0.1, each with a PeerChannels whose handler the test drives.

const logger = pino({ level: 'silent' })

/** A debug logger that keeps what it logs, to see why a peer dropped a stream. */
type LogLine = { msg: string, err?: { message?: string } }
function recordingLogger (): { logger: typeof logger, lines: LogLine[] } {
  const lines: LogLine[] = []
  return { lines, logger: pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line)) } }) }
}

interface Deferred { readonly promise: Promise<void>, readonly resolve: () => void }
function deferred (): Deferred {
  let resolve!: () => void
  const promise = new Promise<void>(r => { resolve = r })
  return { promise, resolve }
}

interface Peer {
  readonly key: PrivateKey
  host: Host
  channels: PeerChannels
  /** every call of the handler: the body and the remote peer it saw */
  readonly calls: Array<{ body: any, peer: string }>
  /** what its PeerChannels logged */
  readonly logged: LogLine[]
}

/**
 * The handler: `{ op: 'echo', n }` answers `{ n, by }`; `{ op: 'throw', message }` throws;
 * `{ op: 'gate', name }` waits for the gate of that name, then answers `{ gate: name }`.
 */
const gates = new Map<string, Deferred>()
const entered = new Set<string>()
// handlers that got past their gate
const left = new Set<string>()
function gate (name: string): Deferred {
  let g = gates.get(name)
  if (g == null) { g = deferred(); gates.set(name, g) }
  return g
}

function handlerFor (calls: Peer['calls'], self: () => Host): ChannelHandler {
  return async (body: any, remote: PeerId) => {
    calls.push({ body, peer: remote.toString() })
    switch (body?.op) {
      case 'echo': return { n: body.n, by: self().peerId.toString() }
      case 'throw': throw new Error(body.message)
      case 'gate':
        entered.add(body.name)
        await gate(body.name).promise
        left.add(body.name)
        return { gate: body.name }
      default: return { unknown: true }
    }
  }
}

async function startPeer (key?: PrivateKey, port = 0): Promise<Peer> {
  const k = key ?? await generateKeyPair('Ed25519')
  const host = await createHost({ privateKey: k, listenHost: '127.0.0.1', listenPort: port })
  const rec = recordingLogger()
  const peer: Peer = { key: k, host, channels: undefined as unknown as PeerChannels, calls: [], logged: rec.lines }
  peer.channels = new PeerChannels({ host, logger: rec.logger }, handlerFor(peer.calls, () => peer.host))
  await peer.channels.start()
  return peer
}

async function stopPeer (p: Peer): Promise<void> {
  await p.channels.stop()
  await p.host.stop()
}

function portOf (host: Host): number {
  const a = host.getMultiaddrs().find(m => m.toString().startsWith('/ip4/127.0.0.1/tcp/'))
  if (a == null) throw new Error('no 127.0.0.1 listen address')
  return Number(a.toString().split('/')[4])
}

function addrOf (p: Peer): Multiaddr {
  return toMultiaddr('127.0.0.1', portOf(p.host), p.host.peerId.toString())
}

/** Open CHANNEL_PROTOCOL streams `from` holds towards `to`, in one direction, over all their connections. */
function channelStreams (from: Host, to: PeerId, direction: 'inbound' | 'outbound'): number {
  return from.getConnections(to)
    .flatMap(c => c.streams)
    .filter(s => s.protocol === CHANNEL_PROTOCOL && s.direction === direction && s.status === 'open')
    .length
}

const timeout = (ms = 10_000): AbortSignal => AbortSignal.timeout(ms)

afterEach(() => {
  // never leave a handler parked on a gate
  for (const g of gates.values()) g.resolve()
  gates.clear()
  entered.clear()
  left.clear()
})

describe('PeerChannels between live hosts', () => {
  let a: Peer
  let b: Peer
  let c: Peer

  beforeAll(async () => {
    a = await startPeer()
    b = await startPeer()
    c = await startPeer()
  })

  afterAll(async () => {
    await Promise.all([a, b, c].filter(p => p != null).map(stopPeer))
  })

  it('answers a request with its handler\'s answer, and the handler sees the requesting peer', async () => {
    const fromA = await a.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 1 }, timeout())
    expect(fromA).toEqual({ n: 1, by: b.host.peerId.toString() })
    const fromC = await c.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 2 }, timeout())
    expect(fromC).toEqual({ n: 2, by: b.host.peerId.toString() })
    expect(b.calls.find(x => x.body.n === 1)?.peer).toBe(a.host.peerId.toString())
    expect(b.calls.find(x => x.body.n === 2)?.peer).toBe(c.host.peerId.toString())
    // and the other way round: b asking a
    const fromB = await b.channels.request(a.host.peerId, addrOf(a), { op: 'echo', n: 3 }, timeout())
    expect(fromB).toEqual({ n: 3, by: a.host.peerId.toString() })
    expect(a.calls.find(x => x.body.n === 3)?.peer).toBe(b.host.peerId.toString())
  })

  it('gives each of 50 concurrent requests its own answer over one stream', async () => {
    const seen: number[] = []
    const before = b.calls.length
    const answers = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const res = await a.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 100 + i }, timeout())
      seen.push(channelStreams(a.host, b.host.peerId, 'outbound'))
      return res
    }))
    expect(answers).toEqual(Array.from({ length: 50 }, (_, i) => ({ n: 100 + i, by: b.host.peerId.toString() })))
    expect(b.calls.length - before).toBe(50)
    expect(b.calls.slice(before).every(x => x.peer === a.host.peerId.toString())).toBe(true)
    // one outbound stream on a's side and one inbound on b's, the whole time
    expect(new Set(seen)).toEqual(new Set([1]))
    expect(channelStreams(a.host, b.host.peerId, 'outbound')).toBe(1)
    expect(channelStreams(b.host, a.host.peerId, 'inbound')).toBe(1)
  })

  it('rejects with a ProtocolError carrying the message when the handler throws', async () => {
    const err = await a.channels.request(b.host.peerId, addrOf(b), { op: 'throw', message: 'no such thing here' }, timeout()).then(() => null, (e: Error) => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect(err?.message).toBe('no such thing here')
    // the channel survives an error answer
    expect(await a.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 7 }, timeout())).toEqual({ n: 7, by: b.host.peerId.toString() })
    expect(channelStreams(a.host, b.host.peerId, 'outbound')).toBe(1)
  })

  it('rejects an aborted request while its handler still runs; a later request gets its own answer', async () => {
    const ac = new AbortController()
    const slow = a.channels.request(b.host.peerId, addrOf(b), { op: 'gate', name: 'slow' }, ac.signal)
    slow.catch(() => {})
    await waitFor(() => entered.has('slow'), { timeoutMs: 5000, message: 'handler entered' })
    const reason = new Error('caller gave up')
    ac.abort(reason)
    await expect(slow).rejects.toBe(reason)
    // rejected while the handler was still parked: it has not got past its gate
    expect(left.has('slow')).toBe(false)

    // b answers in order of arrival, so the later request is answered after the slow one;
    // the slow one's late answer must be dropped, not handed to the later request
    const later = a.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 8 }, timeout())
    gate('slow').resolve()
    expect(await later).toEqual({ n: 8, by: b.host.peerId.toString() })
    expect(channelStreams(a.host, b.host.peerId, 'outbound')).toBe(1)
  })

  it('rejects at once when the signal is already aborted', async () => {
    const reason = new Error('already gone')
    await expect(a.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 9 }, AbortSignal.abort(reason))).rejects.toBe(reason)
    expect(await a.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 10 }, timeout())).toEqual({ n: 10, by: b.host.peerId.toString() })
  })

  it('survives garbage written raw on a channel stream', async () => {
    const callsBefore = b.calls.length
    const failedBefore = b.logged.filter(l => l.msg === 'inbound channel failed').length
    const garbage: Uint8Array[][] = [
      // not a length prefix at all / random-looking bytes
      [Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3])],
      // a frame announcing more than the 1 MiB limit
      [Uint8Array.from([0x80, 0x80, 0x80, 0x04]), new Uint8Array(64)],
      // well-framed, not JSON
      [lp.encode.single(Buffer.from('this is not json')).subarray()],
      // well-framed JSON without a numeric id
      [lp.encode.single(Buffer.from(JSON.stringify({ id: 'x', req: { op: 'echo', n: 1 } }))).subarray()],
      [lp.encode.single(Buffer.from('null')).subarray()],
      // a truncated frame: the prefix promises 100 bytes, 3 arrive, then the stream ends
      [Uint8Array.from([100, 1, 2, 3])],
      // nothing at all
      []
    ]
    for (const chunks of garbage) {
      const stream = await a.host.dialProtocol(addrOf(b), CHANNEL_PROTOCOL, { signal: timeout() })
      let done = false
      void (async () => {
        try { for await (const _ of stream.source) { /* b may answer nothing */ } } catch { /* reset by b */ }
        done = true
      })()
      await stream.sink((async function * () { yield * chunks })()).catch(() => {})
      // b ends or resets the stream instead of waiting on it
      await waitFor(() => done, { timeoutMs: 5000, message: 'b closes the garbage stream' })
    }
    expect(b.host.status).toBe('started')
    // every malformed stream went down the "garbage ends its stream" path (the empty one just ended)
    const failed = b.logged.filter(l => l.msg === 'inbound channel failed').slice(failedBefore)
    expect(failed.map(l => l.err?.message)).toEqual([
      expect.stringMatching(/too long/),
      expect.stringMatching(/too long/),
      expect.stringMatching(/^channel frame: not JSON/),
      'channel frame: no id',
      'channel frame: no id',
      expect.stringMatching(/end of input/i)
    ])
    // no garbage reached the handler
    expect(b.calls.length).toBe(callsBefore)
    // b still answers on its regular channel and on a fresh one
    expect(await a.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 11 }, timeout())).toEqual({ n: 11, by: b.host.peerId.toString() })
    expect(await c.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 12 }, timeout())).toEqual({ n: 12, by: b.host.peerId.toString() })
    await waitFor(() => channelStreams(b.host, a.host.peerId, 'inbound') === 1, { timeoutMs: 5000, message: 'garbage streams gone on b' })
  })

  // regression: requests to a peer with no open stream share one dial; each waits with its own signal
  it('does not fail a request because another request sharing its dial was aborted', async () => {
    // a client-only PeerChannels on c (never started) has no stream open to b yet
    const client = new PeerChannels({ host: c.host, logger }, () => null)
    try {
      const first = new AbortController()
      const p1 = client.request(b.host.peerId, addrOf(b), { op: 'echo', n: 20 }, first.signal)
      p1.catch(() => {})
      const p2 = client.request(b.host.peerId, addrOf(b), { op: 'echo', n: 21 }, timeout())
      p2.catch(() => {})
      first.abort(new Error('first caller gave up'))
      await expect(p1).rejects.toThrow()
      expect(await p2).toEqual({ n: 21, by: b.host.peerId.toString() })
    } finally {
      await client.stop()
    }
  })
})

describe('PeerChannels when the remote host goes away', () => {
  const live: Peer[] = []

  afterEach(async () => {
    await Promise.all(live.splice(0).map(async p => { await stopPeer(p).catch(() => {}) }))
  })

  it('fails pending requests when the remote stops, a dial to it fails fast, and it re-dials once the remote is back', async () => {
    const a = await startPeer()
    live.push(a)
    let b = await startPeer()
    live.push(b)
    const bId = b.host.peerId
    const port = portOf(b.host)
    const addr = toMultiaddr('127.0.0.1', port, bId.toString())

    expect(await a.channels.request(bId, addr, { op: 'echo', n: 1 }, timeout())).toEqual({ n: 1, by: bId.toString() })

    // a request parked in b's handler, then b's host goes away under it
    const pending = a.channels.request(bId, addr, { op: 'gate', name: 'stuck' }, timeout(30_000))
    pending.catch(() => {})
    await waitFor(() => entered.has('stuck'), { timeoutMs: 5000, message: 'handler entered' })
    await b.host.stop()
    await expect(pending).rejects.toThrow('channel closed')
    await b.channels.stop()
    live.splice(live.indexOf(b), 1)

    // nobody listens on the port: a dial error, not a wait for the signal
    const giveUp = new Error('waited for the signal')
    const ac = new AbortController()
    const timer = setTimeout(() => { ac.abort(giveUp) }, 2000)
    const dead = await a.channels.request(bId, addr, { op: 'echo', n: 2 }, ac.signal).then(() => null, (e: Error) => e).finally(() => { clearTimeout(timer) })
    expect(dead).toBeInstanceOf(Error)
    expect(dead).not.toBe(giveUp)
    expect(dead?.name).not.toMatch(/AbortError|TimeoutError/)

    // the same key on the same port again: the next request dials afresh
    b = await startPeer(b.key, port)
    live.push(b)
    expect(b.host.peerId.toString()).toBe(bId.toString())
    const back = await waitFor(async () => await a.channels.request(bId, addr, { op: 'echo', n: 3 }, timeout(2000)), { timeoutMs: 15_000, message: 'request to the restarted b' })
    expect(back).toEqual({ n: 3, by: bId.toString() })
    expect(b.calls.at(-1)?.peer).toBe(a.host.peerId.toString())
    expect(channelStreams(a.host, bId, 'outbound')).toBe(1)
  })

  it('fails pending requests when the remote stops its channels (host still up), then re-opens a stream', async () => {
    const a = await startPeer()
    live.push(a)
    const b = await startPeer()
    live.push(b)
    const pending = a.channels.request(b.host.peerId, addrOf(b), { op: 'gate', name: 'stuck2' }, timeout(30_000))
    pending.catch(() => {})
    await waitFor(() => entered.has('stuck2'), { timeoutMs: 5000, message: 'handler entered' })
    await b.channels.stop()
    await expect(pending).rejects.toThrow('channel closed')
    // b no longer speaks the protocol: a negotiation error, not a hang
    await expect(a.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 1 }, timeout())).rejects.toThrow()
    await b.channels.start()
    expect(await a.channels.request(b.host.peerId, addrOf(b), { op: 'echo', n: 2 }, timeout())).toEqual({ n: 2, by: b.host.peerId.toString() })
  })
})
