import { GossipSub } from '@chainsafe/libp2p-gossipsub'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { trustDirectAuthors } from '../../node/gossip/direct-authorship.js'
import type { RpcReceiver } from '../../node/gossip/direct-authorship.js'
import { cacheEd25519KeyObjects } from '../../node/gossip/ed25519-cache.js'

// A stand-in for gossipsub's receive path: it checks each message's signature
// against its author's key, as validateToRawMessage does, and notes the verdicts.
describe('trustDirectAuthors', async () => {
  const author = await generateKeyPair('Ed25519')
  const relay = await generateKeyPair('Ed25519')
  cacheEd25519KeyObjects(author)
  const authorId = peerIdFromPrivateKey(author)
  const relayId = peerIdFromPrivateKey(relay)
  const data = new Uint8Array(64).fill(9)
  const forged = (): Uint8Array => new Uint8Array(64).fill(1)

  function receiver (direct: () => boolean): { pubsub: RpcReceiver, verdicts: boolean[] } {
    const verdicts: boolean[] = []
    const pubsub: RpcReceiver = {
      handleReceivedRpc: async (_from, rpc) => {
        for (const m of rpc.messages ?? []) verdicts.push(await author.publicKey.verify(data, m.signature ?? new Uint8Array(0)))
      }
    }
    trustDirectAuthors(pubsub, direct)
    return { pubsub, verdicts }
  }

  it("wraps gossipsub's receive handler (a renamed method in a new version shows here)", () => {
    expect(typeof (GossipSub.prototype as unknown as RpcReceiver).handleReceivedRpc).toBe('function')
  })

  it('skips the check of a message its author sent over its own connection, once', async () => {
    const r = receiver(() => true)
    const sig = forged()
    await r.pubsub.handleReceivedRpc(authorId, { messages: [{ from: authorId.toMultihash().bytes, signature: sig }] })
    // the same bytes again, not vouched for this time, are checked: and fail
    await r.pubsub.handleReceivedRpc(relayId, { messages: [{ from: authorId.toMultihash().bytes, signature: sig }] })
    expect(r.verdicts).toEqual([true, false])
  })

  it('checks a message relayed by another peer, and every message while direct() is false', async () => {
    const good = await author.sign(data)
    const r = receiver(() => true)
    await r.pubsub.handleReceivedRpc(relayId, { messages: [{ from: authorId.toMultihash().bytes, signature: forged() }, { from: authorId.toMultihash().bytes, signature: good }] })
    expect(r.verdicts).toEqual([false, true])
    const big = receiver(() => false)
    await big.pubsub.handleReceivedRpc(authorId, { messages: [{ from: authorId.toMultihash().bytes, signature: forged() }] })
    expect(big.verdicts).toEqual([false])
  })

  it('wraps a gossipsub instance once', async () => {
    let calls = 0
    const pubsub: RpcReceiver = { handleReceivedRpc: async () => { calls++ } }
    trustDirectAuthors(pubsub, () => true)
    trustDirectAuthors(pubsub, () => true)
    await pubsub.handleReceivedRpc(authorId, { messages: [] })
    expect(calls).toBe(1)
  })
})
