import type { StreamMuxer, StreamMuxerFactory, StreamMuxerInit } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'

/** Past this many bytes a batch goes out at once (noise splits it into 64 KB messages anyway). */
const MAX_BATCH_BYTES = 64 * 1024

/**
 * Wraps a stream muxer factory so that every frame a connection's muxer
 * emits in one tick leaves as one chunk: one noise message, one socket
 * write, one TCP segment. Without it each frame was all three: a
 * length-prefixed message on a stream is two yamux frames (it-length-prefixed
 * yields the prefix and the body apart), a window update is a third, and the
 * frames of several streams written in the same tick do not share a segment
 * either. The batch is flushed on process.nextTick, after the microtasks
 * that produced it: no timer, no added delay.
 */
export function coalescingMuxer<C> (factory: (components: C) => StreamMuxerFactory): (components: C) => StreamMuxerFactory {
  return components => {
    const inner = factory(components)
    // the inner factory's protocol, capabilities and symbols, with one method replaced
    const outer: StreamMuxerFactory = Object.create(inner)
    outer.createStreamMuxer = (init?: StreamMuxerInit): StreamMuxer => {
      const muxer = inner.createStreamMuxer(init)
      coalesceSource(muxer.source as unknown as Partial<PushableLike>)
      return muxer
    }
    return outer
  }
}

interface PushableLike {
  push: (chunk: Uint8Array | Uint8ArrayList) => unknown
  end: (err?: Error) => unknown
}

/** Batches a pushable's pushes until the next tick; `end` sends what is batched first. */
export function coalesceSource (source: Partial<PushableLike>): void {
  // a muxer whose source is not a pushable is left as it is
  if (typeof source.push !== 'function' || typeof source.end !== 'function') return
  const push = source.push.bind(source)
  const end = source.end.bind(source)
  let batch: Uint8ArrayList | undefined
  const flush = (): void => {
    if (batch == null) return
    const b = batch
    batch = undefined
    push(b)
  }
  source.push = chunk => {
    if (batch == null) {
      batch = new Uint8ArrayList()
      process.nextTick(flush)
    }
    batch.append(chunk)
    if (batch.byteLength >= MAX_BATCH_BYTES) flush()
    return source
  }
  source.end = err => {
    flush()
    return end(err)
  }
}
