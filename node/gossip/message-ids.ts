/** The keys gossipsub files messages under; both are read by this node only. */

// (from, seqno) identifies a signed message; computing it needs no hashing or signature check
export function fastMsgId (msg: { from?: Uint8Array, seqno?: Uint8Array }): string {
  return view(msg.from).toString('base64') + ':' + view(msg.seqno).toString('hex')
}

// the key of gossipsub's seen and message caches, on every message received: the default (the
// multiformats base64 codec, in JS) was 3% of a receiver's allocations; only this node reads it
export function msgIdString (id: Uint8Array): string {
  return view(id).toString('base64')
}

// a Buffer over the same bytes, not a copy
function view (bytes: Uint8Array | undefined): Buffer {
  return bytes == null ? EMPTY : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

const EMPTY = Buffer.alloc(0)
