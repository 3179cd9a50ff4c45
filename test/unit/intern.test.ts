import { describe, expect, it } from 'vitest'
import { intern, internMetadata, internTags } from '../../node/registry/intern.js'

// Sharing strings must never change what a record says.
describe('intern', () => {
  it('gives back the same text, also after more distinct strings than the pool keeps', () => {
    const wrong: number[] = []
    for (let i = 0; i < 60_000; i++) if (intern(`v${i}`) !== `v${i}`) wrong.push(i)
    expect(wrong).toEqual([])
    expect(intern('v1')).toBe('v1')
  })

  it('keeps tags in order and metadata whole, a __proto__ key included as a plain key', () => {
    expect(internTags(['b', 'a', 'b'])).toEqual(['b', 'a', 'b'])
    const meta = Object.fromEntries([['__proto__', 'x'], ['team', 'pay']])
    const out = internMetadata(meta)
    expect(Object.keys(out)).toEqual(['__proto__', 'team'])
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(out.team).toBe('pay')
  })

  it('shares one frozen list per distinct tags and one frozen object per distinct metadata', () => {
    const a = internTags(['prod', 'canary'])
    expect(internTags(['prod', 'canary'])).toBe(a)
    expect(internTags(['canary', 'prod'])).not.toBe(a)
    expect(Object.isFrozen(a)).toBe(true)
    const m = internMetadata({ team: 'pay', build: '1' })
    expect(internMetadata({ team: 'pay', build: '1' })).toBe(m)
    expect(internMetadata({ team: 'pay', build: '2' })).toEqual({ team: 'pay', build: '2' })
    expect(Object.isFrozen(m)).toBe(true)
    // contents whose keys could meet if the pool's keys were built carelessly stay apart
    expect(internMetadata({ 'a","b': 'c' })).not.toBe(internMetadata({ a: 'b', c: '' }))
    expect(internTags(['a\u0000b'])).toEqual(['a\u0000b'])
    expect(internTags(['a', 'b'])).not.toBe(internTags(['a\u0000b']))
    expect(internTags(['["a\\u0000"]'])).not.toBe(internTags(['a\u0000']))
    expect(internTags(['a', 'b'])).not.toBe(internTags(['a\u0000b\u0000']))
    expect(internMetadata({ a: 'b\u0000c', d: 'e' })).toEqual({ a: 'b\u0000c', d: 'e' })
  })

  it('gives back every distinct list and map whole, also past the number it keeps', () => {
    const wrong: number[] = []
    for (let i = 0; i < 12_000; i++) {
      const tags = internTags([`t${i}`, 'x'])
      const meta = internMetadata({ k: `v${i}` })
      if (tags.length !== 2 || tags[0] !== `t${i}` || tags[1] !== 'x' || Object.keys(meta).length !== 1 || meta.k !== `v${i}`) wrong.push(i)
    }
    expect(wrong).toEqual([])
    expect(internTags([])).toEqual([])
    expect(internMetadata({})).toEqual({})
  })
})
