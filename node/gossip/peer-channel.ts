import type { PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { pushable } from 'it-pushable'
import type { Pushable } from 'it-pushable'
import type { Logger } from 'pino'
import { NotReadyError, ProtocolError } from '../errors.js'
import type { Host } from './host.js'

/** Small request/answer messages (probes, acks) between members, on long-lived streams. */
export const CHANNEL_PROTOCOL = '/grapevine/swim/1.0.0'
const MAX_FRAME_BYTES = 1024 * 1024
const DIAL_TIMEOUT_MS = 5000

/** Answers one request from a peer; throwing answers with an error frame. */
export type ChannelHandler = (body: unknown, peer: PeerId) => Promise<unknown> | unknown

interface Pending {
  resolve: (body: unknown) => void
  reject: (err: Error) => void
}

interface Outbound {
  readonly out: Pushable<Uint8Array>
  readonly pending: Map<number, Pending>
  /** set when the stream ended: nothing pushed after it would be sent */
  closed: boolean
}

/**
 * One long-lived stream per peer and direction for small request/answer
 * messages. Opening a libp2p stream costs a protocol negotiation and a
 * peer-store write on both sides (measured: most of an idle node's CPU when
 * probes opened one per ping); a frame on an open stream costs one write.
 * A stream that ends or fails fails its pending requests; the next request
 * opens a new one (dialling, so a vanished peer shows up as a dial error).
 */
export class PeerChannels {
  private readonly outbound = new Map<string, Promise<Outbound>>()
  private readonly inbound = new Set<Stream>()
  private nextId = 1
  private running = false
  /** set by stop(): a never-started instance may still send (client only), a stopped one may not */
  private stopped = false

  constructor (private readonly components: { host: Host, logger: Logger }, private readonly handler: ChannelHandler) {}

  /** Starts answering requests. */
  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    await this.components.host.handle(CHANNEL_PROTOCOL, ({ stream, connection }) => {
      this.serve(stream, connection.remotePeer)
    }, { maxInboundStreams: 1024, runOnLimitedConnection: false })
  }

  /** Closes every stream; idempotent. */
  async stop (): Promise<void> {
    this.stopped = true
    if (!this.running) return
    this.running = false
    await this.components.host.unhandle(CHANNEL_PROTOCOL).catch(() => {})
    for (const s of this.inbound) s.abort(new Error('stopping'))
    for (const o of this.outbound.values()) {
      void o.then(x => {
        x.out.end()
        for (const p of x.pending.values()) p.reject(new NotReadyError('peer channels are stopped'))
        x.pending.clear()
      }, () => {})
    }
    this.outbound.clear()
  }

  /**
   * Sends one request to `peer` and waits for its answer. `addr` (with the
   * peer id) is dialled when no stream is open.
   */
  async request (peer: PeerId, addr: Multiaddr, body: unknown, signal: AbortSignal): Promise<unknown> {
    if (this.stopped) throw new NotReadyError('peer channels are stopped')
    // the dial is shared by every request waiting for it: each waits with its own signal
    const ch = await raceSignal(this.open(peer, addr), signal)
    if (ch.closed) throw new Error('channel closed')
    const id = this.nextId++
    return await new Promise((resolve, reject) => {
      const onAbort = (): void => {
        ch.pending.delete(id)
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
      }
      if (signal.aborted) { onAbort(); return }
      signal.addEventListener('abort', onAbort, { once: true })
      ch.pending.set(id, {
        resolve: v => { signal.removeEventListener('abort', onAbort); resolve(v) },
        reject: e => { signal.removeEventListener('abort', onAbort); reject(e) }
      })
      ch.out.push(encode({ id, req: body }))
    })
  }

  private async open (peer: PeerId, addr: Multiaddr): Promise<Outbound> {
    const key = peer.toString()
    let ch = this.outbound.get(key)
    if (ch == null) {
      const p: Promise<Outbound> = this.dial(key, addr, () => { if (this.outbound.get(key) === p) this.outbound.delete(key) })
      ch = p
      this.outbound.set(key, p)
      p.catch(() => { if (this.outbound.get(key) === p) this.outbound.delete(key) })
    }
    return await ch
  }

  private async dial (key: string, addr: Multiaddr, closed: () => void): Promise<Outbound> {
    // the dial's own deadline, not a caller's: one impatient caller must not fail the others
    const stream = await this.components.host.dialProtocol(addr, CHANNEL_PROTOCOL, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
    const ch: Outbound = { out: pushable<Uint8Array>(), pending: new Map(), closed: false }
    void stream.sink(lp.encode(ch.out)).catch(() => {})
    void (async () => {
      try {
        for await (const frame of lp.decode(stream.source, { maxDataLength: MAX_FRAME_BYTES })) {
          const msg = decode(frame.subarray())
          const p = ch.pending.get(msg.id)
          if (p == null) continue
          ch.pending.delete(msg.id)
          if (msg.err != null) p.reject(new ProtocolError(String(msg.err)))
          else p.resolve(msg.res)
        }
      } catch (err) {
        this.components.logger.debug({ err, peer: key }, 'channel closed')
      } finally {
        ch.closed = true
        closed()
        ch.out.end()
        for (const p of ch.pending.values()) p.reject(new Error('channel closed'))
        ch.pending.clear()
        stream.abort(new Error('channel closed'))
      }
    })()
    return ch
  }

  // One inbound stream: answer each request in order of arrival.
  private serve (stream: Stream, peer: PeerId): void {
    this.inbound.add(stream)
    const out = pushable<Uint8Array>()
    void stream.sink(lp.encode(out)).catch(() => {})
    void (async () => {
      try {
        for await (const frame of lp.decode(stream.source, { maxDataLength: MAX_FRAME_BYTES })) {
          const msg = decode(frame.subarray())
          try {
            out.push(encode({ id: msg.id, res: await this.handler(msg.req, peer) }))
          } catch (err) {
            out.push(encode({ id: msg.id, err: err instanceof Error ? err.message : 'error' }))
          }
        }
      } catch (err) {
        // garbage from a peer ends its stream, never the node
        this.components.logger.debug({ err, peer: peer.toString() }, 'inbound channel failed')
        stream.abort(err as Error)
      } finally {
        out.end()
        this.inbound.delete(stream)
      }
    })()
  }
}

// Waits for `p`, or rejects as soon as `signal` aborts (p goes on for others).
async function raceSignal<T> (p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(v => { signal.removeEventListener('abort', onAbort); resolve(v) }, err => { signal.removeEventListener('abort', onAbort); reject(err) })
  })
}

interface Frame { id: number, req?: unknown, res?: unknown, err?: unknown }

function encode (frame: Frame): Uint8Array {
  return Buffer.from(JSON.stringify(frame))
}

function decode (bytes: Uint8Array): Frame {
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (err) {
    throw new ProtocolError('channel frame: not JSON', { cause: err })
  }
  if (v == null || typeof v !== 'object' || typeof (v as Frame).id !== 'number') throw new ProtocolError('channel frame: no id')
  return v as Frame
}
