import { constants } from 'node:http2'
import type { ServerHttp2Stream } from 'node:http2'

/** DATA frames a request may come in before their sizes are judged. */
const FREE_FRAMES = 1024
/** A body whose frames average less than this is sent to cost memory, not to carry a message. */
const MIN_AVERAGE_FRAME_BYTES = 64

/**
 * Resets (ENHANCE_YOUR_CALM) a call whose body comes in tiny DATA frames.
 * grpc-js keeps a request as the frames it came in until the message is
 * whole, each a Buffer of its own: 1 MB sent a byte a frame took 144 MB of
 * a node's memory, and a few such calls its whole heap. No client frames a
 * message so: grpc libraries write a message in frames of up to 16 KB. The
 * lean path (lean-grpc.ts) copies a body into one buffer and needs no guard.
 */
export function resetTinyFrames (stream: ServerHttp2Stream): void {
  let frames = 0
  let bytes = 0
  const onData = (chunk: Buffer): void => {
    frames++
    bytes += chunk.length
    if (frames <= FREE_FRAMES || bytes >= frames * MIN_AVERAGE_FRAME_BYTES) return
    stream.off('data', onData)
    stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM)
  }
  // the listener does not start the flow: grpc-js pauses and resumes the stream as it reads
  stream.on('data', onData)
  stream.once('end', () => { stream.off('data', onData) })
}
