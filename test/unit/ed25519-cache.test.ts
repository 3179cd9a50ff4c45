import { generateKeyPair, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { cacheEd25519KeyObjects } from '../../node/gossip/ed25519-cache.js'

// The cached KeyObjects must give exactly what @libp2p/crypto gives: the same
// signatures (Ed25519 is deterministic), the same verdicts, the same errors.
describe('Ed25519 signing and checking with cached KeyObjects', async () => {
  const key = await generateKeyPair('Ed25519')
  const other = await generateKeyPair('Ed25519')
  const msg = new Uint8Array(300).fill(3)
  // taken before the patch: what the library itself produces
  const before = { sig: await key.sign(msg), otherSig: await other.sign(msg), listSig: await key.sign(new Uint8ArrayList(msg.subarray(0, 100), msg.subarray(100))) }
  const library = { sign: key.sign, verify: key.publicKey.verify }
  cacheEd25519KeyObjects(key)

  it('replaces the library\'s methods (a renamed method in a new version shows here)', () => {
    expect(key.sign).not.toBe(library.sign)
    expect(key.publicKey.verify).not.toBe(library.verify)
    expect(other.sign).toBe(key.sign)
  })

  it('signs byte for byte as the library did, for every key of the type, twice', async () => {
    expect(Buffer.from(await key.sign(msg)).equals(Buffer.from(before.sig))).toBe(true)
    expect(Buffer.from(await key.sign(msg)).equals(Buffer.from(before.sig))).toBe(true)
    expect(Buffer.from(await other.sign(msg)).equals(Buffer.from(before.otherSig))).toBe(true)
    expect(Buffer.from(await key.sign(new Uint8ArrayList(msg.subarray(0, 100), msg.subarray(100)))).equals(Buffer.from(before.listSig))).toBe(true)
  })

  it('accepts good signatures and rejects a changed message, a changed signature, another key', async () => {
    expect(await key.publicKey.verify(msg, before.sig)).toBe(true)
    // a key object made anew from the raw bytes (as gossipsub does per message) shares the cache
    expect(await publicKeyFromRaw(key.publicKey.raw).verify(msg, before.sig)).toBe(true)
    const changed = Uint8Array.from(msg)
    changed[7] ^= 1
    expect(await key.publicKey.verify(changed, before.sig)).toBe(false)
    const badSig = Uint8Array.from(before.sig)
    badSig[0] ^= 1
    expect(await key.publicKey.verify(msg, badSig)).toBe(false)
    expect(await other.publicKey.verify(msg, before.sig)).toBe(false)
  })

  it('leaves odd input to the library: a short signature is its TypeError', () => {
    expect(() => key.publicKey.verify(msg, new Uint8Array(10))).toThrow(TypeError)
  })
})
