import { describe, it, expect } from 'vitest'
import { InvalidArgumentError } from '../../node/errors.js'
import { decodeVector, encodeVector } from '../../node/registry/version-vector.js'
import type { VectorEntry } from '../../node/registry/types.js'

const vector: VectorEntry[] = [
  { owner: 'node-b', epoch: 3, seq: 17, liveness: 'dead' },
  { owner: 'node-a', epoch: 1, seq: 0, liveness: 'alive' },
  { owner: 'node-c', epoch: 9, seq: 2 ** 40, liveness: 'gone' }
]

const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8')

describe('encodeVector / decodeVector', () => {
  it('round-trips, sorted by owner', () => {
    const decoded = decodeVector(encodeVector(vector))
    expect(decoded).toEqual([...vector].sort((a, b) => a.owner.localeCompare(b.owner)))
  })

  it('gives equal bytes for equal vectors in any order', () => {
    const a = encodeVector(vector)
    const b = encodeVector([vector[2], vector[0], vector[1]])
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
  })

  it('encodes the documented shape, liveness as a small number', () => {
    expect(JSON.parse(Buffer.from(encodeVector(vector)).toString())).toEqual({
      v: 1, o: [['node-a', 1, 0, 0], ['node-b', 3, 17, 1], ['node-c', 9, 2 ** 40, 2]]
    })
  })

  it('round-trips the empty vector', () => {
    expect(decodeVector(encodeVector([]))).toEqual([])
  })

  it('decodes a token that is a view into a larger buffer', () => {
    const token = encodeVector(vector)
    const big = new Uint8Array(token.length + 10)
    big.set(token, 5)
    expect(decodeVector(big.subarray(5, 5 + token.length))).toHaveLength(3)
  })
})

describe('decodeVector rejects garbage', () => {
  it.each([
    ['empty', ''],
    ['not JSON', 'hello'],
    ['truncated JSON', '{"v":1,"o":[['],
    ['JSON null', 'null'],
    ['a JSON string', '"v1"'],
    ['an array', '[1]'],
    ['wrong version', '{"v":2,"o":[]}'],
    ['version as string', '{"v":"1","o":[]}'],
    ['missing entries', '{"v":1}'],
    ['entries not a list', '{"v":1,"o":{}}'],
    ['entry not a list', '{"v":1,"o":[{"owner":"a"}]}'],
    ['entry too short', '{"v":1,"o":[["a",1,2]]}'],
    ['entry too long', '{"v":1,"o":[["a",1,2,0,9]]}'],
    ['empty owner', '{"v":1,"o":[["",1,2,0]]}'],
    ['owner not a string', '{"v":1,"o":[[7,1,2,0]]}'],
    ['owner too long', JSON.stringify({ v: 1, o: [['x'.repeat(129), 1, 2, 0]] })],
    ['negative epoch', '{"v":1,"o":[["a",-1,2,0]]}'],
    ['fractional seq', '{"v":1,"o":[["a",1,2.5,0]]}'],
    ['seq as string', '{"v":1,"o":[["a",1,"2",0]]}'],
    ['unsafe integer', '{"v":1,"o":[["a",1,9007199254740993,0]]}'],
    ['unknown liveness', '{"v":1,"o":[["a",1,2,3]]}'],
    ['liveness as string', '{"v":1,"o":[["a",1,2,"alive"]]}'],
    ['too many owners', JSON.stringify({ v: 1, o: Array.from({ length: 10_001 }, (_, i) => [`n${i}`, 1, 1, 0]) })]
  ])('%s', (_name, text) => {
    let err: unknown
    try {
      decodeVector(bytes(text))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe('resume_token')
    expect((err as Error).message).toMatch(/^resume_token: /)
  })

  it('names the field it is given', () => {
    expect(() => decodeVector(bytes('nope'), 'version_vector')).toThrow(expect.objectContaining({ field: 'version_vector' }))
  })

  it('accepts a well-formed token of exactly 10,000 owners', () => {
    const token = JSON.stringify({ v: 1, o: Array.from({ length: 10_000 }, (_, i) => [`n${i}`, 1, 1, 0]) })
    expect(decodeVector(bytes(token))).toHaveLength(10_000)
  })
})
