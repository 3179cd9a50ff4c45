import type { PeerId } from '@libp2p/interface'

/** Signatures of gossip messages that came straight from their author, over its own connection. */
const vouched = new WeakSet<Uint8Array>()
let taken = 0

/** How many checks were skipped in this process (tests read it). */
export function vouchedChecks (): number {
  return taken
}

/**
 * True, once, for a signature vouched for by the transport (see
 * trustDirectAuthors); the Ed25519 verify patch (ed25519-cache.ts) then
 * skips the check.
 */
export function takeVouched (signature: Uint8Array): boolean {
  if (!vouched.has(signature)) return false
  vouched.delete(signature)
  taken++
  return true
}

/** The part of gossipsub this wraps: the handler of every RPC a peer sent. */
export interface RpcReceiver {
  handleReceivedRpc: (from: PeerId, rpc: { messages?: ReadonlyArray<{ from?: Uint8Array, signature?: Uint8Array }> }) => Promise<void>
}

/**
 * Lets a gossip message that came straight from its author skip its Ed25519
 * check: the noise handshake of the connection it came on already proved
 * the sender's key, and a message whose `from` is that sender is the
 * sender's own. Verifying cost each receiver 100-150 µs per batch, the
 * largest single part of its receive path (every batch of a small cluster
 * comes straight from its owner). Only while `direct()` holds: in a small
 * cluster this node never relays such a message (relay-policy.ts), so no
 * peer ever gets from us a message nobody checked. Messages relayed by a
 * third peer are checked as before. Idempotent per gossipsub instance.
 */
export function trustDirectAuthors (pubsub: RpcReceiver, direct: () => boolean): void {
  const marked = pubsub as RpcReceiver & { grapevineDirectAuthors?: boolean }
  if (marked.grapevineDirectAuthors === true) return
  marked.grapevineDirectAuthors = true
  const original = pubsub.handleReceivedRpc.bind(pubsub)
  pubsub.handleReceivedRpc = async (from, rpc) => {
    const messages = rpc.messages ?? []
    if (messages.length > 0 && direct()) {
      const sender = from.toMultihash().bytes
      for (const m of messages) {
        if (m.signature instanceof Uint8Array && m.from != null && sameBytes(m.from, sender)) vouched.add(m.signature)
      }
    }
    await original(from, rpc)
  }
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
