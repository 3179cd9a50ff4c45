import type { EntryOf, HistoryEntry } from './history.js'
import { buildModel, HEALTHY, procAt, shows } from './model.js'
import type { Life, Model } from './model.js'
import { checkNoDeadServed } from './dead-served.js'
import { endEntry, groupBy, rel, result } from './verdict.js'
import type { InvariantResult, Violation } from './verdict.js'

/**
 * The chaos run's invariants, as pure functions of the recorded history
 * (which holds the final samples too). Each returns one row: name, verdict,
 * a detail line, and the violations with the history entries behind them.
 * Invariant 4 lives in dead-served.ts.
 */

export type { InvariantResult, Violation } from './verdict.js'
export { checkNoDeadServed, copyExpiry } from './dead-served.js'

/** Every invariant, in the table's order. */
export function checkHistory (entries: readonly HistoryEntry[]): InvariantResult[] {
  const m = buildModel(entries)
  return [checkConvergence(m), checkNoLostRegistration(m), checkNoResurrection(m), checkNoDeadServed(m), checkWatchFidelity(m), checkProcesses(m)]
}

/** Nodes whose process runs at the end of the history. */
function liveAtEnd (m: Model): number[] {
  return m.nodes.filter(n => procAt(m, n, m.end) !== undefined)
}

/**
 * 1. Convergence: in the final Status polls, every live node reports the same
 * digest within `convergeMs` of the first poll.
 */
export function checkConvergence (m: Model): InvariantResult {
  const name = '1. convergence'
  const polls = m.entries.filter((e): e is EntryOf<'answer'> => e.kind === 'answer' && e.op === 'Status' && e.final === true)
  if (polls.length === 0) return result(name, 'no final Status polls were taken', [{ message: 'no final Status polls', at: m.end, entries: [] }])
  const live = liveAtEnd(m)
  const start = Math.min(...polls.map(p => p.sentAt))
  const rounds = groupBy(polls, p => p.round ?? 0)
  let last: Array<EntryOf<'answer'>> = []
  for (const round of [...rounds.keys()].sort((a, b) => a - b)) {
    const answers = rounds.get(round)!.filter(a => a.ok)
    if (!live.every(n => answers.some(a => a.node === n))) continue
    last = answers
    const digests = new Set(live.map(n => answers.find(a => a.node === n)!.digest))
    if (digests.size !== 1) continue
    const at = Math.max(...answers.map(a => a.t))
    const ms = at - start
    const detail = `${live.length} live nodes agree after ${ms} ms (bound ${m.meta.bounds.convergeMs} ms), digest ${[...digests][0]?.slice(0, 12)}`
    return result(name, detail, ms <= m.meta.bounds.convergeMs ? [] : [{ message: `digests agreed only after ${ms} ms`, at, entries: answers }])
  }
  const seen = last.map(a => `n${a.node}=${a.digest?.slice(0, 8)}`).join(' ')
  return result(name, `never agreed; last: ${seen || 'no complete poll'}`, [{ message: `live nodes never agreed: ${seen}`, at: m.end, entries: last }])
}

/**
 * 2. No lost registration: an instance whose client is live (not
 * deregistered, not stopped) and whose last renewal was sent less than a
 * TTL before a node's final Discover answered is in that answer, healthy.
 */
export function checkNoLostRegistration (m: Model): InvariantResult {
  const name = '2. no lost registration'
  const finals = new Map<string, EntryOf<'answer'>>()
  const violations: Violation[] = []
  for (const list of m.discovers.values()) for (const a of list) if (a.final === true) finals.set(`${a.node}|${a.service}`, a)
  const live = liveAtEnd(m)
  for (const n of live) {
    for (const s of m.meta.services) {
      if (!finals.has(`${n}|${s}`)) violations.push({ message: `no final Discover of ${s} from n${n}`, at: m.end, entries: [] })
    }
  }
  let checked = 0
  let stale = 0
  for (const lives of m.lives.values()) {
    const l = lives.at(-1)
    if (l === undefined || l.endAt !== undefined) continue
    const ok = (m.writes.get(l.key) ?? []).filter(w => w.ok && w.life === l.life)
    const lastOk = ok.reduce<EntryOf<'answer'> | undefined>((best, w) => (best === undefined || w.sentAt > best.sentAt ? w : best), undefined)
    let judged = false
    for (const n of live) {
      const a = finals.get(`${n}|${l.service}`)
      if (a === undefined || lastOk === undefined || lastOk.sentAt + m.meta.ttlMs <= a.t) continue
      judged = true
      const o = a.instances?.find(i => i.key === l.key)
      if (o === undefined || !HEALTHY.has(o.status)) {
        violations.push({
          message: `${l.key} (life ${l.life}, renewed at n${lastOk.node} ${rel(m, lastOk.sentAt)}) is ${o === undefined ? 'missing' : o.status} in n${n}'s final Discover ${rel(m, a.t)}`,
          at: a.t,
          entries: [lastOk, a]
        })
      }
    }
    if (judged) checked++
    else stale++
  }
  return result(name, `${checked} live instances checked on ${live.length} nodes; ${stale} not renewed within their TTL (not judged)`, violations)
}

/**
 * 3. No resurrection: once a complete sampling round (every node answered)
 * shows an ended life's instance nowhere (no record of the key at all), no
 * later Discover answer and no watch UPSERT (after `eventSlackMs`) shows a
 * record of that life again. Records registered after the next life began
 * belong to that life.
 */
export function checkNoResurrection (m: Model): InvariantResult {
  const name = '3. no resurrection'
  const rounds = roundsByService(m)
  const violations: Violation[] = []
  let ended = 0
  let gone = 0
  for (const lives of m.lives.values()) {
    for (const l of lives) {
      if (l.endAt === undefined) continue
      ended++
      const g = goneEverywhere(m, rounds.get(l.service) ?? [], l)
      if (g === undefined) continue
      gone++
      const again = (m.discovers.get(l.service) ?? []).find(a => a.sentAt > g.at && shows(a, l.key, l.nextStartAt) !== undefined)
      const event = (m.upserts.get(l.key) ?? []).find(u => u.t > g.at + m.meta.bounds.eventSlackMs && (u.registeredAt ?? 0) < l.nextStartAt)
      const first = [again, event].filter(x => x !== undefined).sort((a, b) => a.t - b.t)[0]
      if (first === undefined) continue
      const where = first.kind === 'answer' ? `in n${first.node}'s Discover` : `in watcher ${first.watcher}'s UPSERT from n${first.node}`
      violations.push({
        message: `${l.key} (life ${l.life}, ${l.endKind} at ${rel(m, l.endAt)}, gone everywhere by ${rel(m, g.at)}) reappeared ${where} at ${rel(m, first.t)}`,
        at: first.t,
        entries: [...endEntry(m, l), ...g.answers, first]
      })
    }
  }
  return result(name, `${ended} lives ended (deregistered or stopped), ${gone} seen gone from every node; ${violations.length} came back`, violations)
}

type Round = { readonly round: number, readonly answers: Array<EntryOf<'answer'>> }

function roundsByService (m: Model): Map<string, Round[]> {
  const out = new Map<string, Round[]>()
  for (const [service, list] of m.discovers) {
    const byRound = groupBy(list.filter(a => a.round !== undefined), a => a.round!)
    out.set(service, [...byRound.entries()].sort((a, b) => a[0] - b[0]).map(([round, answers]) => ({ round, answers })))
  }
  return out
}

// The first round, sent wholly after the life ended, in which every node answered without the key at all.
// Without any record of the key: a node's own live copy can hide behind a newer registration of another
// owner, but with no record of the key anywhere, no node holds a live copy.
function goneEverywhere (m: Model, rounds: readonly Round[], l: Life): { at: number, answers: Array<EntryOf<'answer'>> } | undefined {
  for (const r of rounds) {
    if (new Set(r.answers.map(a => a.node)).size < m.nodes.length) continue
    if (Math.min(...r.answers.map(a => a.sentAt)) < l.endAt!) continue
    if (r.answers.some(a => shows(a, l.key, Infinity) !== undefined)) continue
    return { at: Math.max(...r.answers.map(a => a.t)), answers: r.answers }
  }
  return undefined
}

/**
 * 5. Watch fidelity: at every consistent cut (after a resume, and at the
 * end), the watcher's state rebuilt from its events alone (a fresh stream
 * starts empty, a resumed one continues) equals its node's Discover
 * (include_unhealthy): same keys, same statuses. Every watcher must have a
 * final cut.
 */
export function checkWatchFidelity (m: Model): InvariantResult {
  const name = '5. watch fidelity'
  const bySeq = new Map(m.entries.map(e => [e.seq, e]))
  const states = new Map<number, { state: Map<string, string>, lastSeq: number, node: number }>()
  const violations: Violation[] = []
  let resumes = 0
  let elsewhere = 0
  let cuts = 0
  let resumeCuts = 0
  let resumeCutsFailed = 0
  const finals = new Set<number>()
  for (const e of m.entries) {
    if (e.kind === 'watch-open') {
      const st = states.get(e.watcher)
      if (!e.resume || st === undefined) {
        states.set(e.watcher, { state: new Map(), lastSeq: -1, node: e.node })
      } else {
        resumes++
        if (st.node !== e.node) elsewhere++
        st.node = e.node
      }
    } else if (e.kind === 'watch-event') {
      const st = states.get(e.watcher)
      if (st === undefined) continue
      if (e.type === 'UPSERT' && e.key !== undefined) st.state.set(e.key, e.status ?? '')
      if (e.type === 'DELETE' && e.key !== undefined) st.state.delete(e.key)
      if (e.type === 'RESET') st.state.clear()
      st.lastSeq = e.seq
    } else if (e.kind === 'cut') {
      cuts++
      if (e.reason === 'resume') resumeCuts++
      else finals.add(e.watcher)
      const v = judgeCut(m, e, states.get(e.watcher), bySeq)
      if (v !== undefined) violations.push(v)
    } else if (e.kind === 'cut-failed') {
      if (e.reason === 'final') violations.push({ message: `watcher ${e.watcher} (n${e.node}): no consistent cut at the end (${e.detail})`, at: e.t, entries: [e] })
      else resumeCutsFailed++
    }
  }
  for (const w of states.keys()) {
    if (!finals.has(w) && !violations.some(v => v.message.startsWith(`watcher ${w} `))) violations.push({ message: `watcher ${w} has no final cut`, at: m.end, entries: [] })
  }
  const detail = `${states.size} watchers, ${resumes} resumes (${elsewhere} on another node); ${cuts} cuts compared (${resumeCuts} after resumes, ${resumeCutsFailed} resumes found no quiet moment)`
  return result(name, detail, violations)
}

function judgeCut (m: Model, cut: EntryOf<'cut'>, st: { state: Map<string, string>, lastSeq: number } | undefined, bySeq: Map<number, HistoryEntry>): Violation | undefined {
  const who = `watcher ${cut.watcher} (n${cut.node}, ${cut.reason} cut)`
  if (st === undefined || st.lastSeq !== cut.eventSeq) return { message: `${who}: cut does not follow the watcher's last event`, at: cut.t, entries: [cut] }
  const ev = bySeq.get(cut.eventSeq)
  const answers = cut.answers.map(s => bySeq.get(s)).filter((a): a is EntryOf<'answer'> => a?.kind === 'answer')
  if (ev?.kind !== 'watch-event' || answers.length !== cut.answers.length || answers.some(a => !a.ok || a.token !== ev.token)) {
    return { message: `${who}: the cut's answers do not carry the event's token`, at: cut.t, entries: [cut] }
  }
  const disc = new Map<string, string>()
  for (const a of answers) for (const i of a.instances ?? []) disc.set(i.key, i.status)
  const missing = [...disc.keys()].filter(k => !st.state.has(k))
  const extra = [...st.state.keys()].filter(k => !disc.has(k))
  const status = [...disc.entries()].filter(([k, s]) => st.state.has(k) && st.state.get(k) !== s).map(([k, s]) => `${k} ${st.state.get(k)}≠${s}`)
  if (missing.length + extra.length + status.length === 0) return undefined
  const list = (xs: string[]): string => `${xs.length} [${xs.slice(0, 4).join(', ')}${xs.length > 4 ? ', …' : ''}]`
  const events = [...bySeq.values()].filter(e => e.kind === 'watch-event' && e.watcher === cut.watcher && e.seq <= cut.eventSeq &&
    e.key !== undefined && (missing.includes(e.key) || extra.includes(e.key))).slice(-4)
  return {
    message: `${who} differs from Discover: missing ${list(missing)}, extra ${list(extra)}, status ${list(status)}`,
    at: cut.t,
    entries: [cut, ...events, ...answers.filter(a => (a.instances ?? []).some(i => missing.includes(i.key))).slice(0, 2)]
  }
}

/** Not an invariant of the registry, but of the run: no node process exits unless the runner made it. */
export function checkProcesses (m: Model): InvariantResult {
  const exits = m.entries.filter((e): e is EntryOf<'exit'> => e.kind === 'exit')
  const bad = exits.filter(e => !e.expected)
  return result('6. no unexpected exit', `${exits.length} node exits, ${bad.length} not caused by the runner`, bad.map(e => ({
    message: `n${e.node} exited by itself (${e.signal ?? `code ${e.code}`}) at ${rel(m, e.t)}`, at: e.t, entries: [e]
  })))
}
