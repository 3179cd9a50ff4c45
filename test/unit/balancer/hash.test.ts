import { describe, it, expect } from 'vitest'
import { fmix32, fnv1a32, hash32 } from '../../../node/balancer/hash.js'

/** FNV-1a over bytes, the textbook way, as the reference. */
function fnvReference (s: string): number {
  let h = 0x811c9dc5
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0
  return h
}

describe('fnv1a32', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968]
  ])('hashes %j to the published FNV-1a 32 vector', (s, want) => {
    expect(fnv1a32(s)).toBe(want)
  })

  it.each(['é', '€uro', 'zone-日本', '😀 smile', 'lone \ud800 high', 'lone \udc00 low', 'end \ud83d'])(
    'hashes the UTF-8 bytes of %j, as TextEncoder encodes them', s => {
      expect(fnv1a32(s)).toBe(fnvReference(s))
    })
})

describe('hash32', () => {
  it('is fmix32 of fnv1a32, and fmix32 is a bijection fixing 0', () => {
    expect(hash32('key')).toBe(fmix32(fnv1a32('key')))
    expect(fmix32(0)).toBe(0)
    expect(fmix32(1)).not.toBe(fmix32(2))
  })

  it('spreads near-identical strings over the top bits (16 buckets within ±10%)', () => {
    const buckets = new Array(16).fill(0)
    for (let i = 0; i < 16_000; i++) buckets[hash32(`inst#${i}`) >>> 28]++
    for (const b of buckets) expect(Math.abs(b - 1000)).toBeLessThan(100)
  })
})
