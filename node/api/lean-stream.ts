import type { ServiceError } from '@grpc/grpc-js'
import { status as Status } from '@grpc/grpc-js'
import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2'
import type { Encoded } from './encoded.js'
import type { StreamOut } from './stream-out.js'
import { wellFormed } from './text.js'

// what grpc-js sends (server-interceptors.js), so that a client sees no difference
const ANSWER_HEADERS: OutgoingHttpHeaders = {
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity'
}
const OK_TRAILERS: OutgoingHttpHeaders = { 'grpc-status': '0', 'grpc-message': 'OK' }
const TRAILERS_ONLY: OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc+proto' }

/**
 * A server stream's answer on a bare HTTP/2 stream: headers with the first
 * message, each message one DATA write of its shared framed bytes, and the
 * status in the trailers. A status before any message is a trailers-only
 * answer, as grpc-js sends it.
 */
export class LeanStreamOut implements StreamOut {
  private ended = false
  private status: OutgoingHttpHeaders = OK_TRAILERS

  constructor (private readonly stream: ServerHttp2Stream) {}

  write (message: Encoded): boolean {
    // a call that is over takes nothing more; true so that nobody waits for a drain that never comes
    if (this.ended || this.gone()) return true
    this.start()
    return this.stream.write(message.framed())
  }

  /** True once the call is over: answered, failed, or gone. */
  get done (): boolean {
    return this.ended || this.gone()
  }

  onDrain (cb: () => void): void {
    this.stream.once('drain', cb)
  }

  fail (status: Partial<ServiceError>): void {
    if (this.ended || this.gone()) return
    const trailers = { 'grpc-status': String(status.code ?? Status.UNKNOWN), 'grpc-message': encodeURI(wellFormed(status.details ?? '')) }
    this.ended = true
    if (!this.stream.headersSent) {
      this.stream.respond({ ...TRAILERS_ONLY, ...trailers }, { endStream: true })
      return
    }
    this.status = trailers
    this.stream.end()
  }

  onClose (cb: () => void): void {
    this.stream.once('close', cb)
  }

  /** A unary call's answer: the one message, then status OK. */
  answer (message: Encoded): void {
    if (this.ended || this.gone()) return
    this.ended = true
    this.start()
    this.stream.end(message.framed())
  }

  // reset by the client or cut: respond() and write() would throw
  private gone (): boolean {
    return this.stream.destroyed || this.stream.closed
  }

  private start (): void {
    if (this.stream.headersSent) return
    this.stream.respond(ANSWER_HEADERS, { waitForTrailers: true })
    this.stream.once('wantTrailers', () => { this.stream.sendTrailers(this.status) })
  }
}

/** A status before any answer: a trailers-only response. */
export function failStream (stream: ServerHttp2Stream, code: number, details: string): void {
  new LeanStreamOut(stream).fail({ code, details })
}
