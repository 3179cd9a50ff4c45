import http2 from 'node:http2'
import { grpcFrame } from '../../node/api/encoded.js'

/**
 * gRPC spoken over node:http2 by the benchmarks themselves, for the clients
 * whose cost would otherwise be part of the figure: a grpc-js call costs
 * its client 0.2-0.4 ms on two busy cores (the round-trip floors of
 * bench:round-trip: grpc-js unary against a bare node:http2 request), the same
 * cores the nodes run on. Requests are pre-encoded; answers are split into
 * messages and left to the caller to read.
 */

const GRPC_HEADERS = { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' }

/** The request headers of a gRPC call to `path` ("/package.Service/Method"). */
export function grpcHeaders (path: string): http2.OutgoingHttpHeaders {
  return { ...GRPC_HEADERS, ':path': path }
}

/** The status of a finished call from its headers or trailers (both may carry it). */
export interface CallStatus { status?: string, message?: string }

/** Notes grpc-status and grpc-message from a header block into `into`. */
export function readStatus (h: http2.IncomingHttpHeaders, into: CallStatus): void {
  if (h['grpc-status'] != null) into.status = String(h['grpc-status'])
  if (h['grpc-message'] != null) into.message = decodeURIComponent(String(h['grpc-message']))
}

/** One unary call with a pre-encoded request; resolves on grpc-status 0, rejects with the status otherwise. */
export async function leanUnary (session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, request: Buffer, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = session.request(headers, { endStream: false })
    const st: CallStatus = {}
    let timedOut = false
    req.setTimeout(timeoutMs, () => {
      timedOut = true
      req.close(http2.constants.NGHTTP2_CANCEL)
    })
    req.on('response', h => { readStatus(h, st) })
    req.on('trailers', h => { readStatus(h, st) })
    req.on('data', () => {})
    req.on('error', () => {})
    req.on('close', () => {
      if (st.status === '0') resolve()
      else if (timedOut) reject(new Error(`no answer in ${timeoutMs} ms`))
      else reject(new Error(`grpc-status ${st.status ?? `(none; stream reset with code ${req.rstCode})`}${st.message != null ? `: ${st.message}` : ''}`))
    })
    req.end(grpcFrame(request))
  })
}

/**
 * Opens a server-streaming call with a pre-encoded request and hands each
 * message of the answer, whole, to `onMessage`. `onEnd` gets the final
 * grpc-status (absent when the stream was reset or cut).
 */
export function leanStream (session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, request: Buffer, onMessage: (msg: Buffer) => void, onEnd: (st: CallStatus, err?: Error) => void): http2.ClientHttp2Stream {
  const req = session.request(headers, { endStream: false })
  const st: CallStatus = {}
  let pending: Buffer = Buffer.alloc(0)
  req.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    // gRPC messages: 1 byte compressed flag, 4 bytes length, the message
    while (pending.length >= 5) {
      const len = pending.readUInt32BE(1)
      if (pending.length < 5 + len) break
      const msg = pending.subarray(5, 5 + len)
      pending = pending.subarray(5 + len)
      onMessage(msg)
    }
  })
  req.on('response', h => { readStatus(h, st) })
  req.on('trailers', h => { readStatus(h, st) })
  let failure: Error | undefined
  req.on('error', err => { failure = err })
  req.on('close', () => { onEnd(st, failure) })
  // the request is the whole client side: half-close, as grpc-js does (the server waits for it)
  req.end(grpcFrame(request))
  return req
}

/** WatchEvent's type comes first on the wire (field 1, varint): 08 01 is UPSERT, 08 03 SYNCED. */
export function watchEventType (msg: Buffer): 'UPSERT' | 'SYNCED' | 'OTHER' {
  if (msg[0] !== 0x08) return 'OTHER'
  return msg[1] === 0x01 ? 'UPSERT' : msg[1] === 0x03 ? 'SYNCED' : 'OTHER'
}

/** The instance id of an UPSERT (WatchEvent.instance.instance_id), read off the wire without decoding the rest. */
export function upsertInstanceId (msg: Buffer): string | undefined {
  if (watchEventType(msg) !== 'UPSERT') return undefined
  const instance = lengthDelimited(msg, 2)
  const id = instance == null ? undefined : lengthDelimited(instance, 2)
  return id?.toString('utf8')
}

/** The first length-delimited field `field` of a protobuf message; undefined when absent or malformed. */
function lengthDelimited (buf: Buffer, field: number): Buffer | undefined {
  let at = 0
  const varint = (): number => {
    let v = 0
    for (let shift = 0; shift < 35 && at < buf.length; shift += 7) {
      const b = buf[at++]
      v += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return v
    }
    return -1
  }
  while (at < buf.length) {
    const tag = varint()
    if (tag < 0) return undefined
    const wire = tag & 7
    if (wire === 0) {
      if (varint() < 0) return undefined
    } else if (wire === 2) {
      const len = varint()
      if (len < 0 || at + len > buf.length) return undefined
      if (tag >>> 3 === field) return buf.subarray(at, at + len)
      at += len
    } else if (wire === 1) at += 8
    else if (wire === 5) at += 4
    else return undefined
  }
  return undefined
}
