/**
 * The chaos checker on hand-made histories: a clean run passes every
 * invariant, and each history below breaks exactly one, which must be
 * found. Times are ms from the run's start.
 */
import { describe, expect, it } from 'vitest'
import { boundsOf, chaosBounds } from '../../cluster/chaos/bounds.js'
import type { Bounds } from '../../cluster/chaos/bounds.js'
import { checkHistory } from '../../cluster/chaos/checker.js'
import { planFaults } from '../../cluster/chaos/faults.js'
import type { InvariantResult } from '../../cluster/chaos/checker.js'
import { History } from '../../cluster/chaos/history.js'
import type { AnswerEntry, FaultAction, Observed } from '../../cluster/chaos/history.js'
import { createConfig } from '../../node/config.js'
import { seededRandom } from '../../node/membership/clock.js'

const T0 = 1_700_000_000_000
// fixed here (not read from the profile, which is tuned over time): hang detection 3.37 s, crash 1.25 s
const BOUNDS: Bounds = {
  ttlMs: 5000, sweepMs: 200, suspicionMinMs: 361, crashDetectMs: 1250, hangDetectMs: 3366, propagationMs: 1500,
  degradedExtraMs: 3366, partitionExtraMs: 6732, catchUpMs: 1500, convergeMs: 5000, eventSlackMs: 2000, slackMs: 500
}
const IDS = ['P1', 'P2', 'P3']
const NODES = [1, 2, 3]

/** Builds a history with explicit times; `ids` maps node index to peer id. */
class Run {
  readonly h = new History(() => T0)
  private call = 0

  constructor () {
    this.h.record({
      kind: 'meta', seed: 1, nodes: 3, nodeIds: IDS, services: ['svc'], instances: 3, ttlMs: 5000, durationMs: 20_000,
      faultsEndAt: T0 + 10_000, profile: 'test', bounds: BOUNDS
    }, T0)
  }

  client (ms: number, action: 'start' | 'deregister' | 'stop', key: string, life = 1): this {
    this.h.record({ kind: 'client', action, key, life }, T0 + ms)
    return this
  }

  write (ms: number, node: number, op: 'Register' | 'Heartbeat', key: string, opts: { life?: number, ok?: boolean, code?: string } = {}): this {
    const ok = opts.ok ?? true
    this.h.record({ kind: 'answer', id: ++this.call, node, op, sentAt: T0 + ms, ok, key, life: opts.life ?? 1, ...(ok ? {} : { code: opts.code ?? 'DEADLINE_EXCEEDED' }), ...(op === 'Register' && ok ? { registeredAt: T0 + ms + 5 } : {}) }, T0 + ms + 10)
    return this
  }

  discover (ms: number, node: number, instances: Observed[], opts: { round?: number, final?: boolean, token?: string } = {}): AnswerEntry & { seq: number } {
    return this.h.record({ kind: 'answer', id: ++this.call, node, op: 'Discover', sentAt: T0 + ms, ok: true, service: 'svc', instances, token: opts.token ?? 'T', ...(opts.round !== undefined ? { round: opts.round } : {}), ...(opts.final === true ? { final: true } : {}) }, T0 + ms + 10)
  }

  /** every node's answer in one sampling round; a node whose view is null did not answer */
  round (ms: number, round: number, view: (node: number) => Observed[] | null, opts: { final?: boolean, token?: string } = {}): Array<AnswerEntry & { seq: number }> {
    return NODES.flatMap(n => {
      const v = view(n)
      return v === null ? [] : [this.discover(ms, n, v, { round, ...opts })]
    })
  }

  status (ms: number, round: number, digests: string[]): this {
    NODES.forEach((n, k) => this.h.record({ kind: 'answer', id: ++this.call, node: n, op: 'Status', sentAt: T0 + ms, ok: true, round, final: true, digest: digests[k] }, T0 + ms + 10))
    return this
  }

  fault (ms: number, action: FaultAction, nodes: number[], doneMs = ms): this {
    this.h.record({ kind: 'fault', action, nodes, doneAt: T0 + doneMs }, T0 + ms)
    return this
  }

  open (ms: number, watcher: number, stream: number, node: number, resume: boolean): this {
    this.h.record({ kind: 'watch-open', watcher, stream, node, resume }, T0 + ms)
    return this
  }

  event (ms: number, watcher: number, type: 'UPSERT' | 'DELETE' | 'SYNCED', token: string, o?: Observed, node = 1, stream = 1): number {
    return this.h.record({
      kind: 'watch-event', watcher, stream, node, type, token,
      ...(o !== undefined ? { key: o.key } : {}),
      ...(o !== undefined && type === 'UPSERT' ? { status: o.status, owner: o.owner, registeredAt: o.registeredAt } : {})
    }, T0 + ms).seq
  }

  cut (ms: number, watcher: number, node: number, eventSeq: number, answers: number[], reason: 'resume' | 'final' = 'final'): this {
    this.h.record({ kind: 'cut', watcher, stream: 1, node, eventSeq, answers, reason }, T0 + ms)
    return this
  }

  phase (ms: number, name: 'started' | 'final' | 'done'): this {
    this.h.record({ kind: 'phase', name }, T0 + ms)
    return this
  }
}

const A: Observed = { key: 'svc/a', status: 'PASSING', owner: 'P1', registeredAt: T0 + 105 }
const B: Observed = { key: 'svc/b', status: 'PASSING', owner: 'P2', registeredAt: T0 + 105 }

interface Tweaks {
  /** what node n shows in sampling round r (1 round a second, 1..19); null: no answer */
  view?: (n: number, r: number) => Observed[] | null
  /** what node n shows in the final round */
  finalView?: (n: number) => Observed[]
  digests?: string[]
  /** the watcher's events; return the seq of the last one */
  events?: (r: Run) => number
  /** extra entries in the middle of the run */
  extra?: (r: Run) => void
  /** no final cut */
  noCut?: boolean
}

/**
 * A clean run: instance a (registered with n1) heartbeats to the end;
 * instance b (with n2) stops at 4 s, so its copy expires by 8.5 s and it
 * is gone from every node's Discover from round 9 on. One watcher on n1.
 */
function history (t: Tweaks = {}): History {
  const r = new Run()
  r.phase(0, 'started').open(50, 1, 1, 1, false)
  r.client(100, 'start', 'svc/a').write(100, 1, 'Register', 'svc/a')
  r.client(100, 'start', 'svc/b').write(100, 2, 'Register', 'svc/b')
  for (let ms = 1700; ms < 20_000; ms += 1600) r.write(ms, 1, 'Heartbeat', 'svc/a')
  r.write(1700, 2, 'Heartbeat', 'svc/b').write(3300, 2, 'Heartbeat', 'svc/b').client(4000, 'stop', 'svc/b')
  const defaultEvents = (run: Run): number => {
    run.event(60, 1, 'SYNCED', 'T0')
    run.event(115, 1, 'UPSERT', 'T1', A)
    run.event(116, 1, 'UPSERT', 'T2', B)
    return run.event(8600, 1, 'DELETE', 'T3', B)
  }
  const last = (t.events ?? defaultEvents)(r)
  const view = t.view ?? ((_n: number, round: number) => (round <= 8 ? [A, B] : [A]))
  for (let round = 1; round <= 19; round++) r.round(round * 1000, round, n => view(n, round))
  t.extra?.(r)
  r.phase(20_000, 'final').status(20_000, 1, t.digests ?? ['D', 'D', 'D'])
  const finals = r.round(20_100, 20, t.finalView ?? (() => [A]), { final: true, token: 'T3' })
  if (t.noCut !== true) r.cut(20_200, 1, 1, last, [finals[0].seq])
  r.phase(20_300, 'done')
  return r.h
}

function verdicts (h: History): Record<string, boolean> {
  return Object.fromEntries(checkHistory(h.entries).map(r => [r.name, r.pass]))
}

function failing (h: History): InvariantResult[] {
  return checkHistory(h.entries).filter(r => !r.pass)
}

describe('chaos checker', () => {
  it('passes a clean history on every invariant', () => {
    const results = checkHistory(history().entries)
    expect(results.filter(r => !r.pass).map(r => `${r.name}: ${r.violations[0]?.message}`)).toEqual([])
    expect(results.map(r => r.name)).toEqual(['1. convergence', '2. no lost registration', '3. no resurrection', '4. no dead instance served', '5. watch fidelity', '6. no unexpected exit'])
    expect(results[1].detail).toMatch(/^1 live instances checked/)
    expect(results[2].detail).toMatch(/1 seen gone from every node/)
  })

  it('1: live nodes whose digests never agree', () => {
    expect(failing(history({ digests: ['D', 'D', 'X'] })).map(r => r.name)).toEqual(['1. convergence'])
  })

  it('1: digests that agree only after the convergence bound', () => {
    const h = history({
      digests: ['D', 'D', 'X'],
      extra: r => { r.status(20_000 + 5600, 2, ['D', 'D', 'D']) }
    })
    const [r] = failing(h)
    expect(r.name).toBe('1. convergence')
    expect(r.violations[0].message).toMatch(/agreed only after 56\d\d ms/)
  })

  it('2: a heartbeating instance missing from one node\'s final Discover', () => {
    const [r, ...rest] = failing(history({ finalView: n => (n === 3 ? [] : [A]) }))
    expect(rest.map(x => x.name)).toEqual([])
    expect(r.name).toBe('2. no lost registration')
    expect(r.violations[0].message).toMatch(/svc\/a .* missing in n3's final Discover/)
  })

  it('2: an instance shown CRITICAL counts as lost too', () => {
    expect(verdicts(history({ finalView: n => (n === 2 ? [{ ...A, status: 'CRITICAL' }] : [A]) }))['2. no lost registration']).toBe(false)
  })

  it('3: a stopped instance back in a Discover after it was gone everywhere', () => {
    const h = history({ view: (n, round) => (round <= 8 || (round === 14 && n === 2) ? [A, B] : [A]) })
    const v = verdicts(h)
    expect(v['3. no resurrection']).toBe(false)
    const r = failing(h).find(x => x.name === '3. no resurrection')!
    expect(r.violations[0].message).toMatch(/svc\/b \(life 1, stop .*\) reappeared in n2's Discover at \+14\.010s/)
  })

  it('3: a stopped instance back in a watch UPSERT after it was gone everywhere', () => {
    const h = history({
      events: r => {
        r.event(60, 1, 'SYNCED', 'T0')
        r.event(115, 1, 'UPSERT', 'T1', A)
        r.event(116, 1, 'UPSERT', 'T2', B)
        r.event(8600, 1, 'DELETE', 'T3', B)
        r.event(15_000, 1, 'UPSERT', 'T4', B)
        return r.event(15_100, 1, 'DELETE', 'T3', B)
      }
    })
    const r = failing(h).find(x => x.name === '3. no resurrection')
    expect(r?.violations[0].message).toMatch(/reappeared in watcher 1's UPSERT/)
  })

  it('3: the next life of the same instance is no resurrection', () => {
    const B2 = { ...B, registeredAt: T0 + 12_005 }
    const h = history({
      view: (_n, round) => (round <= 8 ? [A, B] : round >= 13 ? [A, B2] : [A]),
      finalView: () => [A, B2],
      extra: r => { r.client(12_000, 'start', 'svc/b', 2).write(12_000, 3, 'Register', 'svc/b', { life: 2 }) },
      events: r => {
        r.event(60, 1, 'SYNCED', 'T0')
        r.event(115, 1, 'UPSERT', 'T1', A)
        r.event(116, 1, 'UPSERT', 'T2', B)
        r.event(8600, 1, 'DELETE', 'T3', B)
        return r.event(12_020, 1, 'UPSERT', 'T3', B2)
      }
    })
    // b's second life stopped heartbeating after its Register, so it is no longer judged by 2.; nothing may fail
    expect(failing(h).map(x => `${x.name}: ${x.violations[0]?.message}`)).toEqual([])
  })

  it('3: a copy hidden behind a newer registration is not gone; its coming back is no resurrection', () => {
    // b's life 1 ends at 4 s; life 2 registers at 6 s with n3 and shadows n2's old copy, which shows again from 15 s
    const B2 = { ...B, owner: 'P3', registeredAt: T0 + 6005 }
    const h = history({
      view: (_n, round) => (round <= 5 ? [A, B] : round < 15 ? [A, B2] : [A, B]),
      finalView: () => [A, B],
      extra: r => { r.client(6000, 'start', 'svc/b', 2).write(6000, 3, 'Register', 'svc/b', { life: 2 }).client(7000, 'stop', 'svc/b', 2) }
    })
    const r = checkHistory(h.entries).find(x => x.name === '3. no resurrection')
    expect(r?.pass).toBe(true)
    expect(r?.detail).toMatch(/2 lives ended .* 0 seen gone from every node/)
  })

  it('4: a stopped client\'s instance still served healthy past TTL + detection bound', () => {
    // b never leaves n3 (healthy) although its last renewal answered at 3.31 s: the deadline is 3.31 + ttl 5 + sweep 0.2 + slack 0.5 + hang detection 3.37 s
    const h = history({ view: (n, round) => (round <= 8 || n === 3 ? [A, B] : [A]) })
    const r = failing(h).find(x => x.name === '4. no dead instance served')
    expect(r?.violations[0].message).toMatch(/svc\/b \(life 1, client stopped at \+4\.000s\) served healthy by n3 at \+13\.000s, past its deadline \+12\.376s/)
  })

  it('4: served CRITICAL (out of healthy answers) is fine', () => {
    const h = history({ view: (n, round) => (round <= 8 ? [A, B] : n === 3 && round < 12 ? [A, { ...B, status: 'CRITICAL' }] : [A]) })
    expect(verdicts(h)['4. no dead instance served']).toBe(true)
  })

  it('4: a failed heartbeat may renew the TTL until its node next answers', () => {
    // n2 is paused from 3.8 s to 9 s: a heartbeat sent at 3.9 s that timed out may be applied when it next answers (9.01 s),
    // so b may live until 9.51 + 5.2 s, and be served until 3.37 s after that; while n2 is paused others show b CRITICAL
    const h = history({
      view: (n, round) => {
        if (round >= 4 && round <= 8) return n === 2 ? null : round === 8 ? [A, { ...B, status: 'CRITICAL' }] : [A, B]
        return round <= 13 || (round <= 17 && n === 3) ? [A, B] : [A]
      },
      extra: r => {
        r.write(3900, 2, 'Heartbeat', 'svc/b', { ok: false })
        r.fault(3800, 'stop', [2]).fault(9000, 'cont', [2])
      },
      events: r => {
        r.event(60, 1, 'SYNCED', 'T0')
        r.event(115, 1, 'UPSERT', 'T1', A)
        r.event(116, 1, 'UPSERT', 'T2', B)
        return r.event(14_600, 1, 'DELETE', 'T3', B)
      }
    })
    expect(failing(h).map(x => `${x.name}: ${x.violations[0]?.message}`)).toEqual([])
  })

  it('4: an owner killed before its sweep re-announces the copy on restart, with a fresh TTL', () => {
    // b's last renewal (3.31 s) would expire at 8.51 s, but n2 is SIGKILLed at 8 s and ready again at 11 s: b is back until 16.2 s
    const h = history({
      view: (n, round) => {
        if (round >= 8 && round <= 10) return n === 2 ? null : [A, { ...B, status: 'CRITICAL' }]
        return round <= 16 ? [A, B] : [A]
      },
      extra: r => { r.fault(8000, 'kill', [2], 8010).fault(10_000, 'restart', [2], 11_000) },
      events: r => {
        r.event(60, 1, 'SYNCED', 'T0')
        r.event(115, 1, 'UPSERT', 'T1', A)
        r.event(116, 1, 'UPSERT', 'T2', B)
        r.event(8100, 1, 'UPSERT', 'T2', { ...B, status: 'CRITICAL' })
        r.event(11_000, 1, 'UPSERT', 'T2', B)
        return r.event(16_300, 1, 'DELETE', 'T3', B)
      }
    })
    expect(failing(h).map(x => `${x.name}: ${x.violations[0]?.message}`)).toEqual([])
  })

  it('4: observers of a partition get the partition allowance, and no more', () => {
    const C: Observed = { key: 'svc/c', status: 'PASSING', owner: 'P1', registeredAt: T0 + 105 }
    const down = (o: Observed): Observed => ({ ...o, status: 'CRITICAL' })
    // n3 alone from 5 s to 20 s; hang detection 3.37 s + partition allowance 6.73 s: n3 may serve n1's a and c until 15.1 s
    const served = (last: number): History => history({
      view: (n, round) => (n === 3 && round >= 5 ? (round <= last ? [A, C] : [down(A), down(C)]) : round <= 8 ? [A, B] : [A]),
      extra: r => { r.h.record({ kind: 'fault', action: 'partition', nodes: [3], groups: [[1, 2], [3]], doneAt: T0 + 5000 }, T0 + 5000); r.fault(20_000, 'heal', [3]) }
    })
    expect(failing(served(15)).map(x => `${x.name}: ${x.violations[0]?.message}`)).toEqual([])
    const r = failing(served(16)).find(x => x.name === '4. no dead instance served')
    expect(r?.violations[0].message).toMatch(/n3 served 2 healthy record\(s\) of n1 \(svc\/a, svc\/c\) at \+16\.000s, 11000 ms into its partition \(bound 10098 ms\)/)
  })

  it('4: a dead owner\'s record still served healthy by a survivor past the crash bound', () => {
    const C: Observed = { key: 'svc/c', status: 'PASSING', owner: 'P3', registeredAt: T0 + 105 }
    const h = history({
      // n3 is SIGKILLed at 12 s and back at 18 s; n1 still serves c as PASSING at 15 s
      view: (n, round) => round <= 8 ? [A, B] : round >= 12 && round < 18 && n === 1 ? [A, C] : [A],
      extra: r => { r.fault(12_000, 'kill', [3], 12_010).fault(18_000, 'restart', [3], 18_500) }
    })
    const r = failing(h).find(x => x.name === '4. no dead instance served')
    expect(r?.violations[0].message).toMatch(/n1 served 1 healthy record\(s\) of n3 \(svc\/c\) at \+14\.000s/)
  })

  it('4: a kind of death whose long windows had no sample past their bound fails as unchecked', () => {
    // n3 is SIGKILLed from 12 s to 18 s, far past the crash bound, but nobody answered a Discover meanwhile
    const h = history({
      view: (_n, round) => (round >= 12 && round < 18 ? null : round <= 8 ? [A, B] : [A]),
      extra: r => { r.fault(12_000, 'kill', [3], 12_010).fault(18_000, 'restart', [3], 18_500) }
    })
    const r = failing(h).find(x => x.name === '4. no dead instance served')
    expect(r?.violations.map(v => v.message)).toEqual(['none of the 1 kill window(s) longer than their bound had a Discover sample past it: the check saw nothing of them'])
  })

  it('4: a dead owner\'s record shown CRITICAL is fine', () => {
    const C: Observed = { key: 'svc/c', status: 'CRITICAL', owner: 'P3', registeredAt: T0 + 105 }
    const h = history({
      view: (n, round) => round <= 8 ? [A, B] : round >= 12 && round < 16 && n === 1 ? [A, C] : [A],
      extra: r => { r.fault(12_000, 'kill', [3], 12_010).fault(18_000, 'restart', [3], 18_500) }
    })
    expect(verdicts(h)['4. no dead instance served']).toBe(true)
  })

  it('5: a watcher that missed a DELETE differs from its node at the final cut', () => {
    const h = history({
      events: r => {
        r.event(60, 1, 'SYNCED', 'T0')
        r.event(115, 1, 'UPSERT', 'T1', A)
        r.event(116, 1, 'UPSERT', 'T2', B)
        return r.event(8600, 1, 'UPSERT', 'T3', A)
      }
    })
    const [r, ...rest] = failing(h)
    expect(rest).toEqual([])
    expect(r.name).toBe('5. watch fidelity')
    expect(r.violations[0].message).toMatch(/watcher 1 \(n1, final cut\) differs from Discover: missing 0 \[\], extra 1 \[svc\/b\]/)
  })

  it('5: a resumed stream continues the state; a fresh one starts empty', () => {
    const h = history({
      events: r => {
        r.event(60, 1, 'SYNCED', 'T0')
        r.event(115, 1, 'UPSERT', 'T1', A)
        r.event(116, 1, 'UPSERT', 'T2', B)
        // a fresh stream (no token) on n2: its snapshot holds a and b, and b is deleted later
        r.open(5000, 1, 2, 2, false)
        r.event(5010, 1, 'UPSERT', 'T2', B, 2, 2)
        r.event(5011, 1, 'SYNCED', 'T2', undefined, 2, 2)
        r.open(6000, 1, 3, 1, true)
        r.event(6010, 1, 'SYNCED', 'T2', undefined, 1, 3)
        return r.event(8600, 1, 'DELETE', 'T3', B, 1, 3)
      }
    })
    // the fresh stream dropped a from the state: the final cut finds it missing
    const r = failing(h).find(x => x.name === '5. watch fidelity')
    expect(r?.violations[0].message).toMatch(/missing 1 \[svc\/a\]/)
    expect(r?.detail).toMatch(/1 resumes \(1 on another node\)/)
  })

  it('5: a watcher with no final cut, or a failed one', () => {
    expect(failing(history({ noCut: true })).map(r => r.name)).toEqual(['5. watch fidelity'])
    const h = history({ noCut: true, extra: r => { r.h.record({ kind: 'cut-failed', watcher: 1, node: 1, reason: 'final', detail: 'a Discover failed' }, T0 + 19_000) } })
    expect(failing(h)[0].violations[0].message).toMatch(/no consistent cut at the end \(a Discover failed\)/)
  })

  it('5: a status that differs (PASSING in the watcher, CRITICAL in Discover)', () => {
    const h = history({ finalView: n => [n === 1 ? { ...A, status: 'CRITICAL' } : A] })
    const r = failing(h).find(x => x.name === '5. watch fidelity')
    expect(r?.violations[0].message).toMatch(/status 1 \[svc\/a PASSING≠CRITICAL\]/)
  })

  it('6: a node that exits by itself', () => {
    const h = history({ extra: r => { r.h.record({ kind: 'exit', node: 2, code: 1, signal: null, expected: false }, T0 + 19_500) } })
    expect(failing(h).map(r => r.name)).toContain('6. no unexpected exit')
  })
})

describe('chaos bounds', () => {
  it('follow the profile\'s timers', () => {
    const c = createConfig('test')
    const b = chaosBounds('test', 5, 5000)
    expect(b).toEqual(boundsOf(c, 5, 5000))
    expect(b.suspicionMinMs).toBe(Math.round(c.suspicionMult * Math.log10(6) * c.probeIntervalMs))
    expect(b.hangDetectMs).toBe(4 * c.probeIntervalMs + 3 * c.probeTimeoutMs + c.suspicionMaxTimeoutMult * b.suspicionMinMs + 500)
    expect(b.crashDetectMs).toBeLessThan(b.hangDetectMs)
    expect(() => chaosBounds('nope', 5, 5000)).toThrow(RangeError)
  })
})

describe('chaos fault plan', () => {
  const plan = (seed: number, untilMs = 40_000): ReturnType<typeof planFaults> => planFaults(seededRandom(seed), { nodes: 5, fromMs: 3000, untilMs })

  it('is the same for the same seed', () => {
    expect(plan(7)).toEqual(plan(7))
    expect(plan(7)).not.toEqual(plan(8))
  })

  it.each([1, 2, 3, 7])('seed %i: long pauses and partitions outlast what the checker needs to judge them', seed => {
    const judgeMs = { hang: 5000, partition: 10_000 }
    const p = planFaults(seededRandom(seed), { nodes: 5, fromMs: 3000, untilMs: 400_000, judgeMs })
    for (const f of p.filter(x => x.endMs < 400_000)) {
      const ms = f.endMs - f.startMs
      // one that cannot be judged before the faults stop is short on purpose
      if (f.kind === 'partition') expect(ms >= 11_000 || f.startMs + 11_000 > 400_000, `a partition of ${ms} ms at ${f.startMs}`).toBe(true)
      if (f.kind === 'stop') expect(ms <= 900 || ms >= 6000, `a pause of ${ms} ms`).toBe(true)
    }
    expect(p.some(f => f.kind === 'partition')).toBe(true)
  })

  it.each([1, 2, 7, 42])('seed %i: in a run too short to judge a partition, partitions are short and every kind still comes', seed => {
    const p = planFaults(seededRandom(seed), { nodes: 5, fromMs: 5000, untilMs: 40_000, judgeMs: { hang: 6000, partition: 49_000 } })
    for (const f of p.filter(x => x.kind === 'partition')) expect(f.endMs - f.startMs).toBeLessThanOrEqual(8000)
    expect(new Set(p.map(f => f.kind))).toEqual(new Set(['kill', 'stop', 'term', 'partition', 'degrade']))
  })

  it.each([1, 2, 3, 7, 11, 42])('seed %i: a partition is alone, from the end of every other fault to a hang detection after its heal', seed => {
    const judgeMs = { hang: 5000, partition: 10_000 }
    const p = planFaults(seededRandom(seed), { nodes: 5, fromMs: 3000, untilMs: 400_000, judgeMs })
    const partitions = p.filter(f => f.kind === 'partition')
    expect(partitions.length).toBeGreaterThan(1)
    for (const q of partitions) {
      for (const f of p.filter(g => g !== q)) {
        const apart = f.endMs <= q.startMs || f.startMs >= q.endMs + judgeMs.hang
        expect(apart, `${f.kind} ${f.startMs}-${f.endMs} beside the partition ${q.startMs}-${q.endMs}`).toBe(true)
      }
    }
    // the other kinds are still planned between them
    expect(new Set(p.map(f => f.kind))).toEqual(new Set(['kill', 'stop', 'term', 'partition', 'degrade']))
  })

  it.each([1, 2, 3, 7, 11, 42, 99, 1234])('seed %i: every kind once, at most two nodes faulty, one partition at a time, all within the window', seed => {
    const p = plan(seed)
    expect(new Set(p.map(f => f.kind))).toEqual(new Set(['kill', 'stop', 'term', 'partition', 'degrade']))
    for (const f of p) {
      expect(f.startMs).toBeGreaterThanOrEqual(3000)
      expect(f.endMs).toBeLessThanOrEqual(40_000)
      expect(f.endMs).toBeGreaterThan(f.startMs)
      const at = f.startMs
      const now = p.filter(g => g.startMs <= at && at < g.endMs)
      expect(new Set(now.flatMap(g => g.nodes)).size).toBeLessThanOrEqual(2)
      expect(now.filter(g => g.kind === 'partition').length).toBeLessThanOrEqual(1)
      if (f.kind === 'partition') expect(f.groups?.flat().sort()).toEqual([1, 2, 3, 4, 5])
    }
  })
})
