import type * as grpc from '@grpc/grpc-js'
import { status } from '@grpc/grpc-js'
import { constants } from 'node:http2'
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2'
import { Encoded } from './encoded.js'
import { failStream, LeanStreamOut } from './lean-stream.js'
import type { StreamOut } from './stream-out.js'

interface LeanMethod {
  /** `/package.Service/Method` */
  readonly path: string
  readonly requestDeserialize: (bytes: Buffer) => unknown
}

/** A unary method served on the lean path. */
export interface LeanUnary extends LeanMethod {
  readonly responseSerialize: (value: any) => Buffer
  /**
   * The method's grpc-js handler. Its call carries `request` only: a handler
   * served here must not read metadata, the peer or the deadline (ours
   * answer from memory, at once).
   */
  readonly handler: grpc.handleUnaryCall<any, any>
}

/** A server-streaming method served on the lean path. */
export interface LeanServerStream extends LeanMethod {
  /** starts the call; it sends on `out` until it fails or the client leaves */
  readonly open: (request: unknown, out: StreamOut) => void
}

let served = 0

/** How many calls this process took on the lean path (tests read it). */
export function leanCallsServed (): number {
  return served
}

type StreamHandler = (this: unknown, extra: unknown, stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void
type Serve = (stream: ServerHttp2Stream, request: unknown) => void

/**
 * Serves the given methods of `server` without grpc-js's per-call
 * machinery: the request is read, decoded and answered on the HTTP/2 stream
 * directly, in the bytes grpc-js would send. That machinery (interceptor
 * chain, metadata, stream decoder, metrics recorder: about 30 objects a
 * call) cost Discover more CPU than the answer itself, an idle Watch
 * more memory than the watch (README, Discover and fan-out), and an owner's
 * Register CPU ahead of the gossip batch that carries it (README,
 * propagation).
 *
 * Anything off the common path goes to grpc-js as before: other methods, a
 * content type grpc-js would refuse, a compressed request. Not done here: a
 * server-side deadline (the client's own deadline cancels the call, which
 * ends it here too), channelz counters and GRPC_NODE_DEBUG_SEND_ERROR_DETAILS. The hook is grpc-js's
 * per-stream handler (private: package.json pins grpc-js exactly, and the
 * component test fails when a lean call goes the slow way), which grpc-js
 * takes from the server when it binds, so this must run before
 * `bindAsync`; a grpc-js without it throws here.
 */
export function serveLean (server: grpc.Server, calls: { unary: readonly LeanUnary[], serverStream: readonly LeanServerStream[] }, maxReceiveBytes: number): void {
  const byPath = new Map<string, { method: LeanMethod, serve: Serve }>()
  for (const m of calls.unary) byPath.set(m.path, { method: m, serve: (stream, request) => { unary(m, stream, request) } })
  for (const m of calls.serverStream) byPath.set(m.path, { method: m, serve: (stream, request) => { guarded(stream, () => { m.open(request, new LeanStreamOut(stream)) }) } })
  const s = server as unknown as Record<string, StreamHandler | undefined>
  if (typeof s.onStreamOpened !== 'function') throw new Error('this grpc-js has no onStreamOpened to count lean streams with (serveLean)')
  // grpc-js binds the channelz flavour when channelz is on
  for (const name of ['_streamHandler', '_channelzHandler']) {
    const slow = s[name]
    if (typeof slow !== 'function') throw new Error(`this grpc-js has no per-stream handler ${name} to wrap (serveLean)`)
    s[name] = function (extra, stream, headers) {
      const lean = byPath.get(headers[':path'] ?? '')
      const type = headers['content-type']
      const encoding = headers['grpc-encoding']
      if (lean == null || typeof type !== 'string' || !type.startsWith('application/grpc') || (encoding != null && encoding !== 'identity')) {
        slow.call(this, extra, stream, headers)
        return
      }
      // grpc-js counts a connection's open streams for its idle timeout
      ;(this as { onStreamOpened: (stream: ServerHttp2Stream) => void }).onStreamOpened(stream)
      receive(stream, lean.method, maxReceiveBytes, request => { lean.serve(stream, request) })
    }
  }
}

function unary (m: LeanUnary, stream: ServerHttp2Stream, request: unknown): void {
  // the callback may run later (a promise): it must not throw into whoever resolved it
  let replied = false
  const reply: grpc.sendUnaryData<any> = (err, value) => {
    // one answer per call: a second reply is dropped, as the stream already carries the first
    if (replied) return
    replied = true
    guarded(stream, () => {
      const out = new LeanStreamOut(stream)
      if (err != null) {
        out.fail({ code: Number.isInteger(err.code) ? err.code : status.UNKNOWN, details: err.details ?? (err as { message?: string }).message ?? '' })
        return
      }
      let message: Encoded
      try {
        message = value instanceof Encoded ? value : new Encoded(m.responseSerialize(value))
      } catch {
        out.fail({ code: status.INTERNAL, details: 'Error serializing response' })
        return
      }
      out.answer(message)
    })
  }
  guarded(stream, () => { m.handler({ request } as grpc.ServerUnaryCall<any, any>, reply) })
}

/**
 * Runs `fn`; a throw (a handler or a serializer that failed) answers
 * UNKNOWN as grpc-js does, or resets a stream whose answer had begun: it
 * never reaches node:http2's event handlers, where it would take the
 * process down.
 */
function guarded (stream: ServerHttp2Stream, fn: () => void): void {
  try {
    fn()
  } catch {
    try {
      if (!stream.headersSent) failStream(stream, status.UNKNOWN, 'Unknown error')
      else if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR)
    } catch {}
  }
}

/** Reads the call's one request message, then hands it on; a bad body fails the call. */
function receive (stream: ServerHttp2Stream, m: LeanMethod, maxReceiveBytes: number, then: (request: unknown) => void): void {
  // a reset stream emits 'error'; its 'close' is all there is to handle (grpc-js does the same)
  stream.on('error', () => {})
  const chunks: Buffer[] = []
  let size = 0
  let tooLarge = false
  const onData = (chunk: Buffer): void => {
    const before = size
    size += chunk.length
    chunks.push(chunk)
    // judged by the length the message declares, as soon as its header is in (grpc-js's words);
    // and whatever it declared, no body beyond one message at the limit is kept
    const declared = before < 5 && size >= 5 ? (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).readUInt32BE(1) : 0
    if (declared > maxReceiveBytes || size > maxReceiveBytes + 5) {
      tooLarge = true
      stream.off('data', onData)
      chunks.length = 0
      guarded(stream, () => { failStream(stream, status.RESOURCE_EXHAUSTED, `Received message larger than max (${Math.max(declared, size - 5)} vs ${maxReceiveBytes})`) })
    }
  }
  stream.on('data', onData)
  stream.once('end', () => {
    if (tooLarge) return
    // a Watch lives on: nothing of its request may stay attached to the stream
    stream.off('data', onData)
    guarded(stream, () => {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
      chunks.length = 0
      const request = readRequest(stream, m, body)
      if (request === undefined) return
      served++
      then(request)
    })
  })
}

/** The one message of a call's body, or undefined once the call was failed. */
function readRequest (stream: ServerHttp2Stream, m: LeanMethod, body: Buffer): unknown {
  const fail = (code: number, details: string): undefined => { failStream(stream, code, details) }
  if (body.length < 5) return fail(status.UNIMPLEMENTED, `Received no request message for method ${m.path}`)
  const length = body.readUInt32BE(1)
  if (body.length > 5 + length) return fail(status.UNIMPLEMENTED, `Received a second request message for method ${m.path}`)
  if (body.length < 5 + length) return fail(status.INTERNAL, 'Received a truncated request message')
  // a compressed message needs a grpc-encoding header, and those calls went to grpc-js
  if (body[0] !== 0) return fail(status.INTERNAL, 'Received a compressed message without a grpc-encoding')
  try {
    return m.requestDeserialize(body.subarray(5))
  } catch {
    return fail(status.INTERNAL, 'Error deserializing request')
  }
}
