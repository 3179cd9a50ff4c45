import type { PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import type { Logger } from 'pino'
import { ProtocolError } from '../errors.js'
import type { Host } from './host.js'

/** Options of one request. */
export interface RequestOptions {
  readonly signal?: AbortSignal
  /** largest answer accepted (all frames together); a peer sending more is cut off */
  readonly maxBytes: number
}

/**
 * One request and one answer over a fresh libp2p stream: the request is
 * written and the write side closed, then the answer is read to its end.
 * JSON both ways: the messages are small except snapshots, and V8 parses
 * JSON faster than any JS protobuf decoder.
 */
export async function request (host: Host, peer: PeerId | Multiaddr, protocol: string, body: unknown, opts: RequestOptions): Promise<unknown> {
  let answer: unknown
  await exchange(host, peer, [protocol], body, opts, async stream => { answer = parse(await readAll(stream, opts.maxBytes)) })
  return answer
}

/**
 * A request whose answer may come in frames: `protocols` in order of
 * preference; when the peer takes `framed`, each length-prefixed JSON frame
 * goes to `onFrame` as it arrives (the next one is still on its way);
 * with an older protocol the whole answer is one frame. Returns the
 * protocol the peer took.
 */
export async function requestFramed (host: Host, peer: PeerId | Multiaddr, protocols: readonly string[], framed: string, body: unknown, opts: RequestOptions,
  onFrame: (frame: unknown, protocol: string) => void): Promise<string> {
  let taken = ''
  await exchange(host, peer, protocols, body, opts, async stream => {
    taken = stream.protocol ?? protocols[protocols.length - 1]
    if (taken !== framed) {
      onFrame(parse(await readAll(stream, opts.maxBytes)), taken)
      return
    }
    let size = 0
    // a frame's announced length counts before its bytes are read: the frames together stay within maxBytes
    const onLength = (length: number): void => {
      size += length
      if (size > opts.maxBytes) throw new ProtocolError(`answer over ${opts.maxBytes} bytes`)
    }
    for await (const frame of lp.decode(stream.source, { maxDataLength: opts.maxBytes, onLength })) {
      onFrame(parse(frame.subarray()), taken)
    }
  })
  return taken
}

// dials, writes the request and closes the write side, then lets `read` take the answer; aborts the
// stream on any error, and when `opts.signal` fires (it bounds the whole exchange, not only the dial)
async function exchange (host: Host, peer: PeerId | Multiaddr, protocols: readonly string[], body: unknown, opts: RequestOptions, read: (stream: Stream) => Promise<void>): Promise<void> {
  const stream = await host.dialProtocol(peer, [...protocols], { signal: opts.signal })
  const onAbort = (): void => { stream.abort(new ProtocolError('no answer in time')) }
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await stream.sink([Buffer.from(JSON.stringify(body))])
    await read(stream)
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
}

/** Handles a request; returns the answer. Throwing closes the stream without one. */
export type RequestHandler = (body: unknown, peer: PeerId) => Promise<unknown> | unknown

/** Handles a request; returns the frames of the answer, built as they are sent. */
export type FramedHandler = (body: unknown, peer: PeerId) => Iterable<unknown> | AsyncIterable<unknown>

/**
 * Serves a request/answer protocol. Garbage from a peer (bad JSON, too big,
 * a handler error) is logged and the stream aborted: it never crashes the node.
 */
export async function serve (host: Host, protocol: string, maxBytes: number, log: Logger, handler: RequestHandler, readMs = REQUEST_READ_MS): Promise<void> {
  await handleRequests(host, protocol, maxBytes, log, async (body, peer, stream) => {
    const answer = await handler(body, peer)
    await stream.sink([Buffer.from(JSON.stringify(answer))])
  }, readMs)
}

/**
 * Serves a protocol whose answer is a series of length-prefixed JSON
 * frames. Each frame is encoded when the stream wants it, after a turn of
 * the event loop: the bytes of one frame leave (and the asker reads them)
 * while the next one is built, and a large answer never holds the event
 * loop, nor its whole encoding in memory, at once.
 */
export async function serveFramed (host: Host, protocol: string, maxBytes: number, log: Logger, handler: FramedHandler): Promise<void> {
  await handleRequests(host, protocol, maxBytes, log, async (body, peer, stream) => {
    const frames = handler(body, peer)
    await stream.sink(lp.encode((async function * () {
      for await (const frame of frames) {
        yield Buffer.from(JSON.stringify(frame))
        await new Promise(resolve => setImmediate(resolve))
      }
    })()))
  })
}

/**
 * How long a peer has to send its whole request: one that opens a stream and
 * never finishes it held the handler (and what it had sent) for good, up to
 * 256 such streams a connection.
 */
export const REQUEST_READ_MS = 10_000

async function handleRequests (host: Host, protocol: string, maxBytes: number, log: Logger, answer: (body: unknown, peer: PeerId, stream: Stream) => Promise<void>, readMs = REQUEST_READ_MS): Promise<void> {
  await host.handle(protocol, ({ stream, connection }) => {
    void (async () => {
      try {
        const timer = setTimeout(() => { stream.abort(new ProtocolError(`request not sent whole within ${readMs} ms`)) }, readMs)
        let body: unknown
        try {
          body = parse(await readAll(stream, maxBytes))
        } finally {
          clearTimeout(timer)
        }
        await answer(body, connection.remotePeer, stream)
      } catch (err) {
        log.debug({ err, peer: connection.remotePeer.toString(), protocol }, 'request failed')
        stream.abort(err as Error)
      }
    })()
  }, { maxInboundStreams: 256, runOnLimitedConnection: false })
}

async function readAll (stream: Stream, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of stream.source) {
    size += chunk.byteLength
    if (size > maxBytes) throw new ProtocolError(`message over ${maxBytes} bytes`)
    // kept as it came (the stream hands each chunk over): one copy, by the concat below, not two
    chunks.push(chunk.subarray())
  }
  return Buffer.concat(chunks, size)
}

function parse (bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (err) {
    throw new ProtocolError('message is not JSON', { cause: err })
  }
}
