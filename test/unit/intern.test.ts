import { describe, expect, it } from 'vitest'
import { intern, internMetadata, internTags } from '../../node/registry/intern.js'

// Sharing strings must never change what a record says.
describe('intern', () => {
  it('gives back the same text, also after more distinct strings than the pool keeps', () => {
    for (let i = 0; i < 60_000; i++) expect(intern(`v${i}`)).toBe(`v${i}`)
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
})
