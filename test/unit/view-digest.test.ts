import { describe, expect, it } from 'vitest'
import { hash128, ViewDigest } from '../../node/registry/view-digest.js'
import { rec } from './registry-fixtures.js'

// MurmurHash3 x86 32-bit over bytes, written from the reference (smhasher), to check the string version against
function murmur3Bytes (b: Buffer, seed: number): number {
  let h = seed >>> 0
  const blocks = b.length >> 2
  for (let i = 0; i < blocks; i++) {
    let k = b.readUInt32LE(i * 4)
    k = Math.imul(k, 0xcc9e2d51); k = (k << 15) | (k >>> 17); k = Math.imul(k, 0x1b873593)
    h ^= k; h = (h << 13) | (h >>> 19); h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  // the tail: up to 3 bytes, little-endian
  const t = blocks * 4
  const rest = b.length & 3
  if (rest > 0) {
    let k = 0
    for (let j = rest - 1; j >= 0; j--) k = (k << 8) | b[t + j]
    k = Math.imul(k, 0xcc9e2d51); k = (k << 15) | (k >>> 17); k = Math.imul(k, 0x1b873593); h ^= k
  }
  h ^= b.length
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16
  return h >>> 0
}

describe('ViewDigest', () => {
  it('each lane is MurmurHash3 of the UTF-16LE bytes (so every node computes the same digest)', () => {
    const seeds = [0x9747b28c, 0x2c1b3c6d, 0x297a2d39, 0x6c078965]
    for (const s of ['', 'a', 'ab', 'abc', 'web/i-1\nQm\n1000\n1001\nPASSING', 'zoné/ü\u{1F600}x']) {
      const got = new Uint32Array(4)
      hash128(s, got)
      expect([...got]).toEqual(seeds.map(seed => murmur3Bytes(Buffer.from(s, 'utf16le'), seed)))
    }
    // the smhasher test vector, for a string whose UTF-16LE bytes are known
    expect(murmur3Bytes(Buffer.from('', 'utf16le'), 0)).toBe(0)
    expect(murmur3Bytes(Buffer.from([0x21, 0x43, 0x65, 0x87]), 0)).toBe(0xf55b516b)
  })

  it('is the same whatever the order, and folding a record twice takes it out', () => {
    const a = rec('web', 'a')
    const b = rec('web', 'b', { updatedAtMs: 2000 })
    const x = new ViewDigest()
    const y = new ViewDigest()
    x.toggle('web/a', a); x.toggle('web/b', b)
    y.toggle('web/b', b); y.toggle('web/a', a)
    expect(x.hex()).toBe(y.hex())
    expect(x.hex()).toMatch(/^[0-9a-f]{32}$/)
    y.toggle('web/b', b)
    const onlyA = new ViewDigest()
    onlyA.toggle('web/a', a)
    expect(y.hex()).toBe(onlyA.hex())
    y.toggle('web/a', a)
    expect(y.hex()).toBe('0'.repeat(32))
  })

  it('tells apart versions of a record and 20,000 distinct records', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 10_000; i++) {
      for (const status of ['PASSING', 'CRITICAL'] as const) {
        const d = new ViewDigest()
        d.toggle(`svc/i${i}`, rec('svc', `i${i}`, { status }))
        seen.add(d.hex())
      }
    }
    expect(seen.size).toBe(20_000)
  })
})
