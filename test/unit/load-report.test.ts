import { describe, expect, it } from 'vitest'
import { loadWorthGossiping } from '../../node/registry/load-report.js'

describe('loadWorthGossiping', () => {
  it.each([
    // previous, next, lastSentAt, now, worth it
    [0, 0, 0, 10_000, false],
    [0, 0.04, 0, 10_000, false],
    [0, 0.05, 0, 10_000, true],
    [0.5, 0.54, 0, 10_000, false],
    [0.5, 0.56, 0, 10_000, true],
    [100, 105, 0, 10_000, false],
    [100, 111, 0, 10_000, true],
    [100, 89, 0, 10_000, true],
    [0, 1, 9_500, 10_000, false],
    [0, 1, 9_000, 10_000, true]
  ])('%s → %s (last sent %s, now %s): %s', (prev, next, last, now, want) => {
    expect(loadWorthGossiping(prev, next, last, now)).toBe(want)
  })
})
