import type { MemberState } from '../../node/membership/member-table.js'

/** One change in one process's member table, stamped with virtual time. */
export interface MemberEvent {
  /** virtual time in ms */
  readonly t: number
  /** the member whose table changed */
  readonly observer: string
  /** which process of that member (0 first, +1 per restart) */
  readonly gen: number
  /** the member the entry is about */
  readonly subject: string
  readonly state: MemberState
  readonly incarnation: number
}

/**
 * One process's lifetime: started at `from` with `startInc`, crashed or left
 * at `to`. A process stopped and resumed (SIGSTOP, SIGCONT) has one per stretch.
 */
export interface Life {
  readonly id: string
  readonly gen: number
  readonly startInc: number
  readonly from: number
  /** when it crashed or left; undefined while it runs */
  to?: number
}

/** A process that records events: a member id and its generation. */
export interface ObserverRef {
  readonly id: string
  readonly gen: number
}

/** A broken invariant, in words a person can act on. */
export interface Violation {
  readonly invariant: 'join' | 'accuracy' | 'completeness' | 'healing' | 'refutation' | 'leave' | 'error'
  readonly message: string
}

/** The process of member `id` running at `t` (paused counts as running), if any. */
export function liveAt (lives: readonly Life[], id: string, t: number): Life | undefined {
  return lives.find(l => l.id === id && l.from <= t && (l.to === undefined || t < l.to))
}

/** Events grouped per (observer process, subject), each list in time order. */
export function indexPairs (events: readonly MemberEvent[]): Map<string, MemberEvent[]> {
  const index = new Map<string, MemberEvent[]>()
  for (const e of events) {
    const k = pairKey({ id: e.observer, gen: e.gen }, e.subject)
    const list = index.get(k)
    if (list == null) index.set(k, [e])
    else list.push(e)
  }
  return index
}

/** The index key of what observer process `o` records about `subject`. */
export function pairKey (o: ObserverRef, subject: string): string {
  return `${o.id}#${o.gen}>${subject}`
}

const fmt = (t: number): string => `${(t / 1000).toFixed(3)}s`

/**
 * Accuracy: no process declares a running member DEAD. A verdict about an
 * older incarnation than the running process started with is about a
 * process that did crash (a restarted member), so it is no violation.
 * Verdicts before `from` are not judged (a partition excuses them), nor
 * their echoes after it: the same verdict still spreading to the others.
 */
export function checkAccuracy (events: readonly MemberEvent[], lives: readonly Life[], from = -Infinity): Violation[] {
  const out: Violation[] = []
  const excused = new Set<string>()
  for (const e of events) {
    if (e.state !== 'DEAD') continue
    if (e.t < from) excused.add(`${e.subject}#${e.incarnation}`)
    if (excused.has(`${e.subject}#${e.incarnation}`)) continue
    const life = liveAt(lives, e.subject, e.t)
    if (life != null && e.incarnation >= life.startInc) {
      out.push({ invariant: 'accuracy', message: `${e.observer} declared ${e.subject} DEAD#${e.incarnation} at ${fmt(e.t)} while it ran (since ${fmt(life.from)})` })
    }
  }
  return out
}

/**
 * When each observer first held `subject` DEAD (or LEFT) at an incarnation
 * of at least `startInc`, counting from `at` (a verdict already held at `at`
 * counts as `at`); undefined where it never did.
 */
export function verdictTimes (index: Map<string, MemberEvent[]>, subject: string, startInc: number, at: number, observers: readonly ObserverRef[]): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>()
  const gone = (e: MemberEvent): boolean => (e.state === 'DEAD' || e.state === 'LEFT') && e.incarnation >= startInc
  for (const o of observers) {
    const list = index.get(pairKey(o, subject)) ?? []
    const before = list.filter(e => e.t <= at).at(-1)
    const after = list.find(e => e.t > at && gone(e))
    out.set(`${o.id}#${o.gen}`, before != null && gone(before) ? at : after?.t)
  }
  return out
}

/**
 * Completeness: every observer declares the crashed `subject` DEAD within
 * `boundMs` of the crash, and never takes it back while it stays crashed.
 * Returns the violations and the slowest observer's latency.
 */
export function checkCompleteness (
  index: Map<string, MemberEvent[]>, crash: { readonly id: string, readonly startInc: number, readonly at: number, readonly until?: number },
  observers: readonly ObserverRef[], boundMs: number
): { violations: Violation[], maxMs: number } {
  const violations: Violation[] = []
  let maxMs = 0
  for (const [o, t] of verdictTimes(index, crash.id, crash.startInc, crash.at, observers)) {
    if (t === undefined || t - crash.at > boundMs) {
      violations.push({ invariant: 'completeness', message: `${o} did not declare ${crash.id} DEAD within ${boundMs} ms of its crash at ${fmt(crash.at)}${t === undefined ? '' : ` (took ${Math.round(t - crash.at)} ms)`}` })
      continue
    }
    maxMs = Math.max(maxMs, t - crash.at)
    const [id, gen] = o.split('#')
    const revived = (index.get(pairKey({ id, gen: Number(gen) }, crash.id)) ?? [])
      .find(e => e.t > t && e.t < (crash.until ?? Infinity) && (e.state === 'ALIVE' || e.state === 'SUSPECT') && e.incarnation >= crash.startInc)
    if (revived != null) violations.push({ invariant: 'completeness', message: `${o} brought crashed ${crash.id} back to ${revived.state}#${revived.incarnation} at ${fmt(revived.t)}` })
  }
  return { violations, maxMs }
}

/**
 * The first instant at or after `from` when every observer holds every
 * subject ALIVE at an incarnation of at least the subject's `minInc`;
 * undefined if the log never gets there. Replays the whole log in order.
 */
export function firstConvergence (
  events: readonly MemberEvent[], observers: readonly ObserverRef[],
  subjects: ReadonlyArray<{ readonly id: string, readonly minInc: number }>, from: number
): number | undefined {
  const minInc = new Map(subjects.map(s => [s.id, s.minInc]))
  const watched = new Set(observers.map(o => `${o.id}#${o.gen}`))
  const ok = new Set<string>()
  const total = observers.length * subjects.length
  for (let i = 0; i < events.length; i++) {
    const e = events[i]
    const min = minInc.get(e.subject)
    if (min !== undefined && watched.has(`${e.observer}#${e.gen}`)) {
      const k = pairKey({ id: e.observer, gen: e.gen }, e.subject)
      if (e.state === 'ALIVE' && e.incarnation >= min) ok.add(k)
      else ok.delete(k)
    }
    // judge an instant only once all its events are in: a flap within one instant is no convergence
    const next = events[i + 1]
    const instantEnds = next === undefined || next.t !== e.t
    if (instantEnds && ok.size === total && total > 0) {
      if (e.t >= from) return e.t
      if (next === undefined || next.t > from) return from
    }
  }
  return undefined
}

/**
 * Refutation: a running member that some process suspects is, at that
 * process, next seen ALIVE (it refuted), never left SUSPECT. Suspicions
 * younger than `graceMs` at `end` are not judged; a DEAD verdict instead is
 * accuracy's to report. Returns violations, how many suspicions there were,
 * and the slowest refutation.
 */
export function checkRefutation (
  index: Map<string, MemberEvent[]>, lives: readonly Life[], end: number, graceMs: number
): { violations: Violation[], suspicions: number, maxMs: number } {
  const violations: Violation[] = []
  let suspicions = 0
  let maxMs = 0
  for (const list of index.values()) {
    for (let i = 0; i < list.length; i++) {
      const e = list[i]
      // a SUSPECT after a SUSPECT (a higher incarnation) continues the same suspicion
      if (e.state !== 'SUSPECT' || e.observer === e.subject || list[i - 1]?.state === 'SUSPECT') continue
      const life = liveAt(lives, e.subject, e.t)
      if (life == null || e.incarnation < life.startInc) continue
      suspicions++
      const next = list.slice(i + 1).find(n => n.state !== 'SUSPECT')
      if (next?.state === 'ALIVE') {
        maxMs = Math.max(maxMs, next.t - e.t)
        continue
      }
      if (next != null) continue
      const observerLife = lives.filter(l => l.id === e.observer && l.gen === e.gen).at(-1)
      const stillRunning = (l: Life | undefined): boolean => l != null && (l.to === undefined || l.to >= end)
      if (stillRunning(observerLife) && stillRunning(life) && end - e.t > graceMs) {
        violations.push({ invariant: 'refutation', message: `${e.observer} still holds ${e.subject} SUSPECT#${e.incarnation} (since ${fmt(e.t)}) at the end, ${fmt(end)}` })
      }
    }
  }
  return { violations, suspicions, maxMs }
}

/**
 * For each pause (`id` frozen until `until`), how long after it ended each
 * observer that then held `id` SUSPECT or DEAD took to hold it ALIVE again:
 * the refutation's way back, which the suspicion minimum must outlast.
 * Observers that never did are left out (refutation reports those).
 */
export function refutationDelays (index: Map<string, MemberEvent[]>, observers: readonly ObserverRef[], pauses: ReadonlyArray<{ readonly id: string, readonly until: number }>): number[] {
  const out: number[] = []
  for (const p of pauses) {
    for (const o of observers) {
      if (o.id === p.id) continue
      const list = index.get(pairKey(o, p.id)) ?? []
      const held = list.filter(e => e.t <= p.until).at(-1)
      if (held == null || (held.state !== 'SUSPECT' && held.state !== 'DEAD')) continue
      const alive = list.find(e => e.t > p.until && e.state === 'ALIVE')
      if (alive != null) out.push(alive.t - p.until)
    }
  }
  return out
}

/** The q-quantile (nearest rank) of `values`; 0 for none. */
export function quantile (values: readonly number[], q: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}
