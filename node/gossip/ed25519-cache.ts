import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { takeVouched } from './direct-authorship.js'

/** Distinct public keys kept: far more than a cluster's members; past it the cache starts over. */
const MAX_PUBLIC_KEYS = 4096

/**
 * Makes @libp2p/crypto's Ed25519 keys sign and verify with a node:crypto
 * KeyObject made once per key. @libp2p/crypto 5 imports the key from JWK on
 * every call: for gossipsub that was every published batch (the owner's
 * private key) and every received one (the publisher's public key), about
 * 0.2 ms of the owner's time before a batch could leave. Same algorithm,
 * same bytes, same errors: anything unusual (wrong lengths, a signature
 * that is not a Uint8Array) goes to the original method. Idempotent; applied
 * by createHost with the node's own key, whose classes it patches.
 */
export function cacheEd25519KeyObjects (key: PrivateKey): void {
  if (key.type !== 'Ed25519') return
  const privProto = Object.getPrototypeOf(key) as PatchedPrivate
  const pubProto = Object.getPrototypeOf(key.publicKey) as PatchedPublic
  if (privProto.grapevineKeyObjects === true) return
  privProto.grapevineKeyObjects = true

  const privateKeys = new WeakMap<object, KeyObject>()
  const originalSign = privProto.sign
  privProto.sign = function (this: { raw: Uint8Array }, message: Uint8Array | Uint8ArrayList, options?: { signal?: AbortSignal }) {
    if (this.raw.byteLength !== 64) return originalSign.call(this, message, options)
    options?.signal?.throwIfAborted()
    let ko = privateKeys.get(this)
    if (ko == null) {
      ko = createPrivateKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', d: b64url(this.raw.subarray(0, 32)), x: b64url(this.raw.subarray(32)) } })
      privateKeys.set(this, ko)
    }
    return sign(null, message instanceof Uint8Array ? message : message.subarray(), ko)
  }

  const publicKeys = new Map<string, KeyObject>()
  const originalVerify = pubProto.verify
  pubProto.verify = function (this: { raw: Uint8Array }, data: Uint8Array | Uint8ArrayList, sig: Uint8Array, options?: { signal?: AbortSignal }) {
    if (this.raw.byteLength !== 32 || !(sig instanceof Uint8Array) || sig.byteLength !== 64) return originalVerify.call(this, data, sig, options)
    options?.signal?.throwIfAborted()
    // a gossip message its author sent us itself: the connection proved who wrote it (direct-authorship.ts)
    if (takeVouched(sig)) return true
    const x = b64url(this.raw)
    let ko = publicKeys.get(x)
    if (ko == null) {
      if (publicKeys.size >= MAX_PUBLIC_KEYS) publicKeys.clear()
      ko = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x } })
      publicKeys.set(x, ko)
    }
    return verify(null, data instanceof Uint8Array ? data : data.subarray(), ko, sig)
  }
}

function b64url (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

// the methods the patch replaces, as @libp2p/crypto 5's Ed25519 classes define them
interface PatchedPrivate {
  sign: (message: Uint8Array | Uint8ArrayList, options?: { signal?: AbortSignal }) => Uint8Array | Promise<Uint8Array>
  grapevineKeyObjects?: boolean
}

interface PatchedPublic {
  verify: (data: Uint8Array | Uint8ArrayList, sig: Uint8Array, options?: { signal?: AbortSignal }) => boolean | Promise<boolean>
}
