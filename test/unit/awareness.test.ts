import { describe, it, expect } from 'vitest'
import { Awareness } from '../../node/membership/awareness.js'

describe('Awareness', () => {
  it('starts healthy and does not stretch', () => {
    const a = new Awareness(8)
    expect(a.health).toBe(0)
    expect(a.scale(500)).toBe(500)
  })

  // score kept within [0, max - 1]; scale(ms) = ms × (score + 1)
  it.each([
    { max: 8, deltas: [1], health: 1, scaled: 200 },
    { max: 8, deltas: [1, 1, 1], health: 3, scaled: 400 },
    { max: 8, deltas: [3, -1], health: 2, scaled: 300 },
    { max: 8, deltas: [-1], health: 0, scaled: 100 },
    { max: 8, deltas: [-5, 1], health: 1, scaled: 200 },
    { max: 8, deltas: Array<number>(20).fill(1), health: 7, scaled: 800 },
    { max: 8, deltas: [100], health: 7, scaled: 800 },
    { max: 8, deltas: [100, -1], health: 6, scaled: 700 },
    { max: 8, deltas: [7, -100], health: 0, scaled: 100 },
    { max: 8, deltas: [0], health: 0, scaled: 100 },
    { max: 2, deltas: [1, 1, 1], health: 1, scaled: 200 },
    { max: 1, deltas: [1, 1], health: 0, scaled: 100 }
  ])('max=$max deltas=$deltas → health $health, scale(100) $scaled', ({ max, deltas, health, scaled }) => {
    const a = new Awareness(max)
    for (const d of deltas) a.apply(d)
    expect(a.health).toBe(health)
    expect(a.scale(100)).toBe(scaled)
  })

  it.each([
    { health: 0, ms: 250, scaled: 250 },
    { health: 2, ms: 250, scaled: 750 },
    { health: 7, ms: 1000, scaled: 8000 },
    { health: 3, ms: 0, scaled: 0 }
  ])('scale($ms) at health $health → $scaled', ({ health, ms, scaled }) => {
    const a = new Awareness(8)
    a.apply(health)
    expect(a.health).toBe(health)
    expect(a.scale(ms)).toBe(scaled)
  })

  it('recovers step by step from the top', () => {
    const a = new Awareness(4)
    a.apply(10)
    const seen: number[] = []
    for (let i = 0; i < 5; i++) {
      seen.push(a.health)
      a.apply(-1)
    }
    expect(seen).toEqual([3, 2, 1, 0, 0])
  })
})
