import { describe, expect, it } from 'vitest'
import { grpcTimeoutMs } from '../../node/api/lean-grpc.js'

describe('grpcTimeoutMs (the lean path reads grpc-timeout as grpc-js does)', () => {
  it.each<[string | undefined, number | undefined | 'invalid']>([
    [undefined, undefined],
    ['50m', 50],
    ['2S', 2000],
    ['3M', 180_000],
    ['1H', 3_600_000],
    ['1500u', 1],
    ['999999n', 0],
    ['abc', 'invalid'],
    ['', 'invalid'],
    // grpc-js's `| 0` made a deadline past 24.8 days negative (at once): the longest timer instead
    ['2592000S', 2 ** 31 - 1],
    ['99999999H', 2 ** 31 - 1]
  ])('%s → %s', (value, expected) => {
    expect(grpcTimeoutMs(value)).toBe(expected)
  })
})
