import type { PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { ProtocolError } from '../errors.js'
import type { Host } from './host.js'

/** Options of one request. */
export interface RequestOptions {
  readonly signal?: AbortSignal
  /** largest answer accepted; a peer sending more is cut off */
  readonly maxBytes: number
}

/**
 * One request and one answer over a fresh libp2p stream: the request is
 * written and the write side closed, then the answer is read to its end.
 * JSON both ways: the messages are small except snapshots, and V8 parses
 * JSON faster than any JS protobuf decoder.
 */
export async function request (host: Host, peer: PeerId | Multiaddr, protocol: string, body: unknown, opts: RequestOptions): Promise<unknown> {
  const stream = await host.dialProtocol(peer, protocol, { signal: opts.signal })
  try {
    await stream.sink([Buffer.from(JSON.stringify(body))])
    return parse(await readAll(stream, opts.maxBytes))
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

/** Handles a request; returns the answer. Throwing closes the stream without one. */
export type RequestHandler = (body: unknown, peer: PeerId) => Promise<unknown> | unknown

/**
 * Serves a request/answer protocol. Garbage from a peer (bad JSON, too big,
 * a handler error) is logged and the stream aborted: it never crashes the node.
 */
export async function serve (host: Host, protocol: string, maxBytes: number, log: Logger, handler: RequestHandler): Promise<void> {
  await host.handle(protocol, ({ stream, connection }) => {
    void (async () => {
      try {
        const body = parse(await readAll(stream, maxBytes))
        const answer = await handler(body, connection.remotePeer)
        await stream.sink([Buffer.from(JSON.stringify(answer))])
      } catch (err) {
        log.debug({ err, peer: connection.remotePeer.toString(), protocol }, 'request failed')
        stream.abort(err as Error)
      }
    })()
  }, { maxInboundStreams: 256, runOnLimitedConnection: false })
}

async function readAll (stream: Stream, maxBytes: number): Promise<Buffer> {
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

function parse (buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'))
  } catch (err) {
    throw new ProtocolError('message is not JSON', { cause: err })
  }
}
