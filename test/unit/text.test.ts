import { describe, expect, it } from 'vitest'
import { clip, wellFormed } from '../../node/api/text.js'

const EMOJI = '\u{1F600}' // two UTF-16 units

describe('clip', () => {
  it('keeps a short text whole and cuts a long one at max', () => {
    expect(clip('abc', 3)).toBe('abc')
    expect(clip('abcdef', 3)).toBe('abc')
  })

  it('never keeps half of a surrogate pair', () => {
    const s = 'x'.repeat(63) + EMOJI
    expect(clip(s, 64)).toBe('x'.repeat(63))
    expect(clip(s, 65)).toBe(s)
    expect(() => encodeURI(clip(s, 64))).not.toThrow()
  })
})

describe('wellFormed', () => {
  it.each([
    ['a lone high surrogate', 'a\ud83d', 'a\ufffd'],
    ['a lone low surrogate', '\ude00b', '\ufffdb'],
    ['a low before a high', '\ude00\ud83d', '\ufffd\ufffd'],
    ['two highs before a low', '\ud83d\ud83d\ude00', `\ufffd${EMOJI}`]
  ])('replaces %s', (_name, input, output) => {
    expect(wellFormed(input)).toBe(output)
    expect(() => encodeURI(wellFormed(input))).not.toThrow()
  })

  it('leaves well-formed text as it is', () => {
    const s = `100% é ${EMOJI} ok`
    expect(wellFormed(s)).toBe(s)
  })
})
