import type { HistoryEntry } from './history.js'
import type { Life, Model } from './model.js'

/** One broken promise, with the entries that show it. */
export interface Violation {
  readonly message: string
  /** when it happened (ms, wall clock) */
  readonly at: number
  readonly entries: readonly HistoryEntry[]
}

/** One row of the checker's table. */
export interface InvariantResult {
  readonly name: string
  readonly pass: boolean
  readonly detail: string
  readonly violations: readonly Violation[]
}

/** A time as "+12.345s" from the run's start. */
export function rel (m: Model, t: number): string {
  return `+${((t - m.meta.t) / 1000).toFixed(3)}s`
}

/** A row: it passes when there are no violations, which are sorted by time. */
export function result (name: string, detail: string, violations: Violation[]): InvariantResult {
  return { name, pass: violations.length === 0, detail, violations: violations.sort((a, b) => a.at - b.at) }
}

/** The client entry that ended a life, if any. */
export function endEntry (m: Model, l: Life): HistoryEntry[] {
  return l.endSeq === undefined ? [] : m.entries.filter(e => e.seq === l.endSeq)
}

/** Groups a list by a key, keeping order within each group. */
export function groupBy<T, K> (xs: readonly T[], key: (x: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>()
  for (const x of xs) {
    const k = key(x)
    const l = out.get(k)
    if (l === undefined) out.set(k, [x])
    else l.push(x)
  }
  return out
}
