import type { ServerWritableStream, ServiceError } from '@grpc/grpc-js'
import type { Encoded } from './encoded.js'

/**
 * The sending side of a server stream, as a handler sees it: the same for
 * a call grpc-js serves and one the lean path serves (lean-stream.ts).
 */
export interface StreamOut {
  /** sends one message; false when the stream is full (then wait for onDrain) */
  write: (message: Encoded) => boolean
  /** calls `cb` once when the stream can take more */
  onDrain: (cb: () => void) => void
  /** ends the call with this status */
  fail: (status: Partial<ServiceError>) => void
  /** calls `cb` when the call is over: cancelled by the client, failed or cut */
  onClose: (cb: () => void) => void
}

/** A StreamOut over a grpc-js server stream whose serializer lets Encoded through. */
export function grpcStreamOut (call: ServerWritableStream<any, any>): StreamOut {
  return {
    write: message => call.write(message),
    onDrain: cb => { call.once('drain', cb) },
    // grpc-js sends a server stream's status from 'error' (destroy() would end it silently)
    fail: status => { call.emit('error', Object.assign(new Error(status.details ?? ''), status)) },
    onClose: cb => {
      call.on('cancelled', cb)
      call.on('close', cb)
      call.on('error', cb)
    }
  }
}
