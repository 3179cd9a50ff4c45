import { monotonicNow } from '../monotonic.js'

/** A timer handle from a Clock. */
export interface TimerHandle {
  cancel: () => void
}

/** Time for the sans-IO core: real timers in production, a FakeClock in the simulation. */
export interface Clock {
  now: () => number
  /** runs `fn` after `ms`; production timers are unref()ed */
  setTimeout: (fn: () => void, ms: number) => TimerHandle
}

/** Randomness for the core, seeded in the simulation. */
export interface Random {
  /** uniform in [0, 1) */
  next: () => number
}

/**
 * Monotonic time and unref()ed timers. Everything membership times is a
 * span on this node (suspicion, a DEAD member's keep, ownerReapMs): on the
 * wall clock, an NTP step forward of an hour dropped every DEAD member from
 * the table at once, and with it the reaper's only word that its instances
 * had to go.
 */
export const realClock: Clock = {
  now: monotonicNow,
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref()
    return { cancel: () => { clearTimeout(t) } }
  }
}

/** Math.random. */
export const mathRandom: Random = { next: () => Math.random() }

/** Fisher-Yates shuffle with an injected Random (probe order). */
export function shuffle<T> (list: T[], random: Random): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1))
    const t = list[i]
    list[i] = list[j]
    list[j] = t
  }
  return list
}

/** A seeded PRNG (mulberry32): same seed, same sequence. */
export function seededRandom (seed: number): Random {
  let a = seed >>> 0
  return {
    next: () => {
      a = (a + 0x6d2b79f5) >>> 0
      let t = a
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
  }
}
