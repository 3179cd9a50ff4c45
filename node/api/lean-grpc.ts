import type * as grpc from '@grpc/grpc-js'
import { status } from '@grpc/grpc-js'
import { constants } from 'node:http2'
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2'
import { Encoded } from './encoded.js'
import { resetTinyFrames } from './frame-guard.js'
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
type Serve = (stream: ServerHttp2Stream, timeoutMs: number | undefined) => void

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
 * content type grpc-js would refuse, a compressed request. The client's
 * `grpc-timeout` is kept as grpc-js keeps it (a call past it ends with
 * DEADLINE_EXCEEDED, a malformed one is refused). Not done here: channelz
 * counters and GRPC_NODE_DEBUG_SEND_ERROR_DETAILS. The hook is grpc-js's
 * per-stream handler (private: package.json pins grpc-js exactly, and the
 * component test fails when a lean call goes the slow way), which grpc-js
 * takes from the server when it binds, so this must run before
 * `bindAsync`; a grpc-js without it throws here.
 */
export function serveLean (server: grpc.Server, calls: { unary: readonly LeanUnary[], serverStream: readonly LeanServerStream[] }, maxReceiveBytes: number): void {
  const byPath = new Map<string, Serve>()
  for (const m of calls.unary) byPath.set(m.path, (stream, timeoutMs) => { unary(m, stream, timeoutMs, maxReceiveBytes) })
  for (const m of calls.serverStream) byPath.set(m.path, (stream, timeoutMs) => { serverStream(m, stream, timeoutMs, maxReceiveBytes) })
  const s = server as unknown as Record<string, StreamHandler | undefined>
  if (typeof s.onStreamOpened !== 'function') throw new Error('this grpc-js has no onStreamOpened to count lean streams with (serveLean)')
  // grpc-js binds the channelz flavour when channelz is on
  for (const name of ['_streamHandler', '_channelzHandler']) {
    const slow = s[name]
    if (typeof slow !== 'function') throw new Error(`this grpc-js has no per-stream handler ${name} to wrap (serveLean)`)
    s[name] = function (extra, stream, headers) {
      const serve = byPath.get(headers[':path'] ?? '')
      const type = headers['content-type']
      const encoding = headers['grpc-encoding']
      if (serve == null || typeof type !== 'string' || !type.startsWith('application/grpc') || (encoding != null && encoding !== 'identity')) {
        resetTinyFrames(stream)
        slow.call(this, extra, stream, headers)
        return
      }
      // grpc-js counts a connection's open streams for its idle timeout
      ;(this as { onStreamOpened: (stream: ServerHttp2Stream) => void }).onStreamOpened(stream)
      // a reset stream emits 'error'; its 'close' is all there is to handle (grpc-js does the same)
      stream.on('error', () => {})
      const timeout = grpcTimeoutMs(headers['grpc-timeout'])
      if (timeout === 'invalid') {
        guarded(stream, () => { failStream(stream, status.INTERNAL, `Invalid grpc-timeout value "${String(headers['grpc-timeout'])}"`) })
        return
      }
      serve(stream, timeout)
    }
  }
}

// grpc-js's reading of the header (server-interceptors.js), so a client sees no difference
const DEADLINE_PATTERN = /(\d{1,8})\s*([HMSmun])/
const DEADLINE_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 }

// the longest a timer waits: grpc-js's `| 0` made a deadline past 24.8 days negative, so at once
const MAX_TIMER_MS = 2 ** 31 - 1

/** The call's deadline in ms from now, undefined without one, 'invalid' for a value grpc-js refuses. */
export function grpcTimeoutMs (value: string | string[] | undefined): number | undefined | 'invalid' {
  if (value === undefined) return undefined
  const match = (Array.isArray(value) ? value[0] ?? '' : value).match(DEADLINE_PATTERN)
  if (match == null) return 'invalid'
  return Math.min(Math.floor(Number(match[1]) * DEADLINE_UNIT_MS[match[2]]), MAX_TIMER_MS)
}

// Ends the call with DEADLINE_EXCEEDED once its deadline passes; the timer goes with the stream.
function armDeadline (stream: ServerHttp2Stream, timeoutMs: number | undefined, expire: () => void): NodeJS.Timeout | undefined {
  if (timeoutMs === undefined) return undefined
  const timer = setTimeout(() => { guarded(stream, expire) }, timeoutMs)
  stream.once('close', () => { clearTimeout(timer) })
  return timer
}

function unary (m: LeanUnary, stream: ServerHttp2Stream, timeoutMs: number | undefined, maxReceiveBytes: number): void {
  // the callback may run later (a promise): it must not throw into whoever resolved it
  let replied = false
  // one answer per call: the first to claim it (an answer, a failure, the deadline) sends it
  const claim = (): boolean => {
    if (replied) return false
    replied = true
    clearTimeout(deadline)
    return true
  }
  const fail = (code: number, details: string): void => {
    if (claim()) guarded(stream, () => { failStream(stream, code, details) })
  }
  const deadline = armDeadline(stream, timeoutMs, () => { fail(status.DEADLINE_EXCEEDED, 'Deadline exceeded') })
  const reply: grpc.sendUnaryData<any> = (err, value) => {
    if (err != null) {
      fail(Number.isInteger(err.code) ? err.code as number : status.UNKNOWN, err.details ?? (err as { message?: string }).message ?? '')
      return
    }
    // a second reply is dropped, as the stream already carries the first
    if (!claim()) return
    guarded(stream, () => {
      const out = new LeanStreamOut(stream)
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
  receive(stream, m, maxReceiveBytes, () => replied, fail, request => {
    try {
      m.handler({ request } as grpc.ServerUnaryCall<any, any>, reply)
    } catch {
      fail(status.UNKNOWN, 'Unknown error')
    }
  })
}

function serverStream (m: LeanServerStream, stream: ServerHttp2Stream, timeoutMs: number | undefined, maxReceiveBytes: number): void {
  const out = new LeanStreamOut(stream)
  const fail = (code: number, details: string): void => { out.fail({ code, details }) }
  armDeadline(stream, timeoutMs, () => { fail(status.DEADLINE_EXCEEDED, 'Deadline exceeded') })
  receive(stream, m, maxReceiveBytes, () => out.done, fail, request => { m.open(request, out) })
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

/**
 * Reads the call's one request message, then hands it on; a bad body fails
 * the call. `over`: the call was answered already (its deadline passed), so
 * nothing more is read.
 */
function receive (stream: ServerHttp2Stream, m: LeanMethod, maxReceiveBytes: number, over: () => boolean, fail: (code: number, details: string) => void, then: (request: unknown) => void): void {
  const body = new RequestBody(maxReceiveBytes)
  const stop = (): void => { stream.off('data', onData) }
  const onData = (chunk: Buffer): void => {
    if (over()) {
      stop()
      return
    }
    const tooLarge = body.push(chunk)
    if (tooLarge == null) return
    stop()
    fail(status.RESOURCE_EXHAUSTED, `Received message larger than max (${tooLarge} vs ${maxReceiveBytes})`)
  }
  stream.on('data', onData)
  stream.once('end', () => {
    // a Watch lives on: nothing of its request may stay attached to the stream
    stop()
    if (over() || body.refused) return
    guarded(stream, () => {
      const request = readRequest(m, body, fail)
      if (request === undefined) return
      served++
      then(request)
    })
  })
}

// a message's first buffer; it doubles from there, up to the length the message declares
const FIRST_BUFFER_BYTES = 16 * 1024

/**
 * A call's body as it arrives: the message header, then the message copied
 * into one buffer. Kept as the chunks it came in, a body sent in 1-byte DATA
 * frames cost a Buffer per byte (about 130 bytes of heap each): a few such
 * streams of 4 MB took a node past its heap. The buffer grows with what came,
 * not with what the header claims (a 5-byte header claiming 4 MB set 4 MB
 * aside).
 */
class RequestBody {
  readonly head = Buffer.alloc(5)
  headBytes = 0
  message: Buffer | undefined
  messageBytes = 0
  /** bytes beyond the declared message: a second message */
  extra = false
  /** set once the body was found too large; nothing more is kept */
  refused = false
  private size = 0

  constructor (private readonly maxBytes: number) {}

  /** Takes a chunk; the size to report when the body is too large, else undefined. */
  push (chunk: Buffer): number | undefined {
    this.size += chunk.length
    let at = 0
    if (this.headBytes < 5) {
      at = chunk.copy(this.head, this.headBytes, 0, Math.min(chunk.length, 5 - this.headBytes))
      this.headBytes += at
      if (this.headBytes < 5) return undefined
    }
    // judged by the length the message declares, as soon as its header is in (grpc-js's words)
    const declared = this.head.readUInt32BE(1)
    if (declared > this.maxBytes) return this.refuse(declared)
    // whatever it declared, no body beyond one message at the limit is read
    if (this.size > this.maxBytes + 5) return this.refuse(this.size - 5)
    const wanted = Math.min(declared, this.messageBytes + chunk.length - at)
    if (this.message == null || this.message.length < wanted) this.grow(Math.min(declared, Math.max(wanted, 2 * (this.message?.length ?? 0), FIRST_BUFFER_BYTES)))
    const copied = chunk.copy(this.message as Buffer, this.messageBytes, at, at + wanted - this.messageBytes)
    this.messageBytes += copied
    if (at + copied < chunk.length) this.extra = true
    return undefined
  }

  private grow (bytes: number): void {
    const next = Buffer.allocUnsafe(bytes)
    this.message?.copy(next, 0, 0, this.messageBytes)
    this.message = next
  }

  private refuse (size: number): number {
    this.refused = true
    this.message = undefined
    return size
  }
}

/** The one message of a call's body, or undefined once the call was failed. */
function readRequest (m: LeanMethod, body: RequestBody, fail: (code: number, details: string) => void): unknown {
  if (body.headBytes < 5) return fail(status.UNIMPLEMENTED, `Received no request message for method ${m.path}`)
  if (body.extra) return fail(status.UNIMPLEMENTED, `Received a second request message for method ${m.path}`)
  const length = body.head.readUInt32BE(1)
  if (body.messageBytes < length) return fail(status.INTERNAL, 'Received a truncated request message')
  // a compressed message needs a grpc-encoding header, and those calls went to grpc-js
  if (body.head[0] !== 0) return fail(status.INTERNAL, 'Received a compressed message without a grpc-encoding')
  try {
    return m.requestDeserialize(body.message?.subarray(0, length) ?? Buffer.alloc(0))
  } catch {
    return fail(status.INTERNAL, 'Error deserializing request')
  }
}
