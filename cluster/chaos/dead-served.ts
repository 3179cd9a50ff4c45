import type { EntryOf } from './history.js'
import { catchingUp, HEALTHY, overlaps, procAt, shows } from './model.js'
import type { Life, Model } from './model.js'
import { endEntry, rel, result } from './verdict.js'
import type { InvariantResult, Violation } from './verdict.js'

/**
 * 4. No dead instance served. (a) A life whose client stopped heartbeating
 * (stop, or deregister) is out of every node's healthy answers once every
 * copy of it can have expired: the last possible renewal at each node + TTL
 * + sweep + slack (stretched by a pause of that node over the deadline, and
 * renewed by a restart that re-announces it), + max(propagation, hang detection).
 * (b) While a node is dead (SIGKILL, SIGTERM once it exited, SIGSTOP, or on
 * the other side of a partition), no other node serves its records as
 * healthy once the detection bound has passed: crash detection after a kill
 * or exit, hang detection for a pause or a partition, and hang detection
 * whenever another fault makes probes ambiguous. An observer that is itself
 * catching up (just resumed or restarted) is judged from then; a degraded
 * one gets `degradedExtraMs`, and every observer of a partition (all miss
 * acks, so Lifeguard's local health slows their timers by design)
 * `partitionExtraMs`. A kind of death whose long windows all went unsampled
 * fails: the check saw nothing of it.
 */
export function checkNoDeadServed (m: Model): InvariantResult {
  const a = checkStoppedClients(m)
  const b = checkDeadOwners(m)
  return result('4. no dead instance served', `${a.detail}; ${b.detail}`, [...a.violations, ...b.violations])
}

function degradedDuring (m: Model, node: number, from: number, to: number): boolean {
  return overlaps(m.timelines.get(node)?.degrades ?? [], from, to)
}

function checkStoppedClients (m: Model): { detail: string, violations: Violation[] } {
  const { bounds } = m.meta
  const violations: Violation[] = []
  let judged = 0
  let unbounded = 0
  for (const lives of m.lives.values()) {
    for (const l of lives) {
      if (l.endAt === undefined) continue
      const { at: expiry, last, holders } = copyExpiry(m, l)
      if (!Number.isFinite(expiry)) {
        unbounded++
        continue
      }
      judged++
      const deadline = expiry + Math.max(bounds.propagationMs, bounds.hangDetectMs)
      const bad = (m.discovers.get(l.service) ?? []).find(a => {
        if (a.sentAt <= healedDeadline(m, a.node, holders, l.endAt!, deadline)) return false
        if (degradedDuring(m, a.node, l.endAt!, a.sentAt) && a.sentAt <= deadline + bounds.degradedExtraMs) return false
        if (catchingUp(m, a.node, a.sentAt, bounds.catchUpMs)) return false
        const o = shows(a, l.key, l.nextStartAt)
        return o !== undefined && HEALTHY.has(o.status)
      })
      if (bad === undefined) continue
      violations.push({
        message: `${l.key} (life ${l.life}, client ${l.endKind === 'stop' ? 'stopped' : 'deregistered'} at ${rel(m, l.endAt)}) served healthy by n${bad.node} at ${rel(m, bad.sentAt)}, past its deadline ${rel(m, deadline)} (every copy expired by ${rel(m, expiry)})`,
        at: bad.sentAt,
        entries: [...endEntry(m, l), ...(last !== undefined ? [last] : []), bad]
      })
    }
  }
  return { detail: `${judged} stopped or deregistered lives judged (${unbounded} unbounded: a call to a node that never answered again)`, violations }
}

/**
 * A partition that cut `observer` off from a node holding a copy can hide
 * that copy's expiry until it heals: the expiry then propagates from the heal.
 */
function healedDeadline (m: Model, observer: number, holders: ReadonlySet<number>, from: number, deadline: number): number {
  let at = deadline
  for (const p of m.partitions) {
    if (p.to < from || p.from > deadline) continue
    const mine = p.groups.find(g => g.includes(observer))
    if ([...holders].some(h => h !== observer && (mine === undefined || !mine.includes(h)))) at = Math.max(at, p.to + m.meta.bounds.propagationMs)
  }
  return at
}

/**
 * When the last copy of a life can have expired: per node, the last time a
 * Register or Heartbeat can have been applied there (a failed call may have
 * been applied until that node next answered anything, or died), then TTL +
 * sweep, stretched by a pause over the deadline, renewed by a restart.
 */
export function copyExpiry (m: Model, l: Life): { at: number, last?: EntryOf<'answer'>, holders: ReadonlySet<number> } {
  const lastApply = new Map<number, { at: number, entry: EntryOf<'answer'> }>()
  for (const w of m.writes.get(l.key) ?? []) {
    if (w.sentAt >= l.nextStartAt) continue
    let applied: number
    if (w.ok) {
      applied = w.t
    } else if (w.code === 'NOT_FOUND' || w.code === 'INVALID_ARGUMENT') {
      continue
    } else {
      const p = procAt(m, w.node, w.sentAt)
      if (p === undefined) continue
      applied = Math.min(m.firstOkAfter(w.node, w.sentAt) + m.meta.bounds.slackMs, p.end)
    }
    const prev = lastApply.get(w.node)
    if (prev === undefined || applied > prev.at) lastApply.set(w.node, { at: applied, entry: w })
  }
  let worst: { at: number, last?: EntryOf<'answer'> } = { at: -Infinity }
  for (const [node, { at, entry }] of lastApply) {
    const exp = expiryAt(m, node, at)
    if (exp > worst.at) worst = { at: exp, last: entry }
  }
  return { ...worst, holders: new Set(lastApply.keys()) }
}

function expiryAt (m: Model, node: number, appliedAt: number): number {
  const { ttlMs, sweepMs, slackMs } = m.meta.bounds
  const tl = m.timelines.get(node)!
  let renew = appliedAt
  for (let guard = 0; guard < 1000 && Number.isFinite(renew); guard++) {
    // the sweep (and the write that persists it) can run late on a busy machine
    let expiry = renew + ttlMs + sweepMs + slackMs
    // paused over its deadline: the owner sweeps it once it runs again
    const f = tl.freezes.find(z => z.from < expiry && z.to > renew + ttlMs)
    if (f !== undefined) expiry = Math.max(expiry, f.to + sweepMs + slackMs)
    const p = tl.procs.find(q => q.start <= renew && renew <= q.end)
    // signalled before its sweep had surely run: it may have died (and persisted) holding the record
    if (p === undefined || p.killedAt >= expiry) return expiry
    // the next process re-announces it with a fresh TTL
    const next = tl.procs.find(q => q.start >= p.end)
    if (next === undefined) return p.end
    renew = next.readyAt
  }
  return Infinity
}

interface DeathWindow {
  readonly owner: number
  readonly kind: 'kill' | 'term' | 'stop' | 'partition'
  /** when the owner stopped answering its peers */
  readonly from: number
  /** when it came back (restart, SIGCONT, heal) */
  readonly to: number
  /** observers the window applies to */
  readonly observers: readonly number[]
  /** observers that count as degraded: in a partition every node misses acks, and Lifeguard then slows its own timers */
  readonly isolated: readonly number[]
}

function deathWindows (m: Model): DeathWindow[] {
  const faults = m.entries.filter((e): e is EntryOf<'fault'> => e.kind === 'fault')
  const out: DeathWindow[] = []
  for (const [k, f] of faults.entries()) {
    const n = f.nodes[0]
    const others = m.nodes.filter(x => x !== n)
    if (f.action === 'kill' || f.action === 'term') {
      const back = faults.slice(k + 1).find(g => g.action === 'restart' && g.nodes.includes(n))
      // a SIGTERMed node serves (and leaves) until it exits, which under load can take seconds: judge from its exit
      const exit = procAt(m, n, f.t)?.end ?? f.doneAt ?? f.t
      const from = f.action === 'kill' ? f.t : Math.min(Number.isFinite(exit) ? exit : f.doneAt ?? f.t, back?.t ?? m.end)
      out.push({ owner: n, kind: f.action, from, to: back?.t ?? m.end, observers: others, isolated: [] })
    } else if (f.action === 'stop') {
      const back = faults.slice(k + 1).find(g => g.action === 'cont' && g.nodes.includes(n))
      out.push({ owner: n, kind: 'stop', from: f.t, to: back?.t ?? m.end, observers: others, isolated: [] })
    }
  }
  for (const p of m.partitions) {
    for (const g of p.groups) {
      const observers = m.nodes.filter(x => !g.includes(x))
      for (const owner of g) out.push({ owner, kind: 'partition', from: p.from, to: p.to, observers, isolated: observers })
    }
  }
  return out
}

// any other fault in force while the window's detection runs: probes are ambiguous, so only hang detection holds
function otherFaults (m: Model, w: DeathWindow, until: number): boolean {
  for (const n of m.nodes) {
    if (n === w.owner) continue
    const tl = m.timelines.get(n)!
    if (overlaps(tl.freezes, w.from, until) || overlaps(tl.degrades, w.from, until)) return true
    if (tl.procs.some(p => p.end < until && p.end >= w.from - m.meta.bounds.hangDetectMs) || tl.procs.some(p => p.start > w.from - m.meta.bounds.hangDetectMs && p.start <= until)) return true
  }
  return overlaps(m.partitions, w.from, until)
}

function boundOf (m: Model, w: DeathWindow): number {
  const b = m.meta.bounds
  const ambiguous = otherFaults(m, w, w.from + b.hangDetectMs)
  // SIGKILL and an exited SIGTERMed node: nothing listens, probes are refused (its LEFT usually comes sooner)
  if (w.kind === 'kill' || w.kind === 'term') return ambiguous ? b.hangDetectMs : b.crashDetectMs
  return b.hangDetectMs
}

// when `node` last (re)started (began answering) or resumed, at or before t
function lastDisturbance (m: Model, node: number, t: number): number {
  const tl = m.timelines.get(node)!
  let at = -Infinity
  // a restarted node is judged from when it answered (under load a start takes seconds)
  for (const p of tl.procs) if (p.start <= t) at = Math.max(at, Math.min(p.readyAt === Infinity ? p.start : p.readyAt, t))
  for (const f of tl.freezes) if (f.from <= t) at = Math.max(at, Math.min(f.to, t))
  return at
}

// a window counts as judgeable this far past its bound: Discover samples come every few hundred ms
const JUDGE_MARGIN_MS = 2000

function checkDeadOwners (m: Model): { detail: string, violations: Violation[] } {
  const violations: Violation[] = []
  const windows = deathWindows(m)
  let judged = 0
  // per kind: samples judged, and windows long enough that some should have been
  const judgedBy = new Map<string, number>()
  const judgeable = new Map<string, number>()
  // the longest a survivor went on serving a dead owner's records healthy, per kind of death
  const slowest = new Map<string, number>()
  for (const w of windows) {
    const id = m.meta.nodeIds[w.owner - 1]
    const bound = boundOf(m, w)
    const seen = new Set<number>()
    // well past the bound (the sampler's gaps and an observer's own restart aside)
    if (w.to - w.from > bound + (w.isolated.length > 0 || overlaps(m.partitions, w.from, w.to) ? m.meta.bounds.partitionExtraMs : 0) + JUDGE_MARGIN_MS) judgeable.set(w.kind, (judgeable.get(w.kind) ?? 0) + 1)
    for (const list of m.discovers.values()) {
      for (const a of list) {
        if (a.sentAt < w.from || a.sentAt >= w.to || !w.observers.includes(a.node) || seen.has(a.node)) continue
        const start = Math.max(w.from, lastDisturbance(m, a.node, a.sentAt))
        const bad = a.instances?.filter(i => i.owner === id && HEALTHY.has(i.status)) ?? []
        if (bad.length > 0 && a.sentAt >= start) slowest.set(w.kind, Math.max(slowest.get(w.kind) ?? 0, a.sentAt - start))
        // in this window's partition, or while another one held: every node then misses the other side's
        // acks, and Lifeguard slows its timers for this death's detection too
        const extra = w.isolated.includes(a.node) || overlaps(m.partitions, w.from, a.sentAt) ? m.meta.bounds.partitionExtraMs : degradedDuring(m, a.node, w.from, a.sentAt) ? m.meta.bounds.degradedExtraMs : 0
        if (a.sentAt < start + bound + extra) continue
        judged++
        judgedBy.set(w.kind, (judgedBy.get(w.kind) ?? 0) + 1)
        if (bad.length === 0) continue
        seen.add(a.node)
        violations.push({
          message: `n${a.node} served ${bad.length} healthy record(s) of n${w.owner} (${bad.slice(0, 3).map(i => i.key).join(', ')}) at ${rel(m, a.sentAt)}, ${a.sentAt - start} ms into its ${w.kind} (bound ${bound + extra} ms)`,
          at: a.sentAt,
          entries: [...m.entries.filter(e => e.kind === 'fault' && e.t === w.from), a]
        })
      }
    }
  }
  // a kind whose long windows all went unsampled was not checked at all: say so, as a failure
  for (const [kind, n] of judgeable) {
    if ((judgedBy.get(kind) ?? 0) > 0) continue
    violations.push({ message: `none of the ${n} ${kind} window(s) longer than their bound had a Discover sample past it: the check saw nothing of them`, at: m.end, entries: [] })
  }
  const worst = [...slowest].map(([k, ms]) => `${k} ${ms} ms`).join(', ')
  const byKind = [...judgedBy].map(([k, n]) => `${k} ${n}`).join(', ')
  return { detail: `${windows.length} owner-death windows, ${judged} samples past their bound (${byKind || 'none'}); longest still served: ${worst || 'none'}`, violations }
}

