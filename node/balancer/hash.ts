/**
 * 32-bit string hashes for the consistent-hash strategies. Written here, not
 * taken from node:crypto, because a pick hashes its key on the hot path and
 * must not allocate. Every node computes the same values, so any node maps a
 * key to the same instance given the same view.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5
const FNV_PRIME = 0x01000193

/** FNV-1a (32-bit) of the UTF-8 bytes of `s`, encoded inline; lone surrogates as U+FFFD like TextEncoder. */
export function fnv1a32 (s: string): number {
  let h = FNV_OFFSET_BASIS
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i)
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME)
      continue
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME)
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME)
      continue
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        i++
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME)
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME)
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME)
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME)
        continue
      }
      c = 0xfffd
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME)
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME)
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME)
  }
  return h >>> 0
}

/** murmur3's 32-bit finalizer: every input bit flips about half the output bits. */
export function fmix32 (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * The hash the rings use: FNV-1a, then murmur3's finalizer, because bare
 * FNV-1a of near-identical strings ("a#1", "a#2") differs mostly in low bits
 * and would bunch a ring's virtual nodes together.
 */
export function hash32 (s: string): number {
  return fmix32(fnv1a32(s))
}
