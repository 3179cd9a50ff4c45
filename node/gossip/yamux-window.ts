import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/**
 * Makes yamux streams announce receive window (WINDOW_UPDATE) only once half
 * of the window is used, as hashicorp/yamux does (stream.go sendWindowUpdate:
 * `delta < max/2 && flags == 0` sends nothing). @chainsafe/libp2p-yamux 7
 * sends one after every chunk it reads: on an idle cluster, where every
 * message is a probe or an ack of a hundred bytes, that was a 30-byte frame,
 * a TCP segment and often its ACK for every message, over a third of all
 * segments. The sender still always has at least half a window to write
 * into, so throughput on big transfers (snapshots) is not held back.
 * Idempotent; applied by createHost.
 */
export function halveWindowUpdates (): void {
  const proto = YamuxStream.prototype as unknown as PatchedStream
  if (proto.grapevineOriginalSendWindowUpdate != null) return
  const original = proto.sendWindowUpdate
  proto.grapevineOriginalSendWindowUpdate = original
  proto.sendWindowUpdate = function (this: PatchedStream): void {
    // Init and SYNReceived owe the peer a SYN or an ACK flag: those frames must go out
    const owesFlags = this.state === StreamState.Init || this.state === StreamState.SYNReceived
    if (!owesFlags && this.recvWindowCapacity >= this.recvWindow / 2) return
    original.call(this)
  }
}

// the fields the patch reads are private in the package's types
interface PatchedStream {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
  sendWindowUpdate: () => void
  grapevineOriginalSendWindowUpdate?: () => void
}
