import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { shuffle } from '../../node/membership/clock.js'
import type { Random } from '../../node/membership/clock.js'
import type { LocalCluster } from '../launcher.js'
import type { FaultAction, FaultEntry, History } from './history.js'

/** The kinds of fault the runner injects. */
export type FaultKind = 'kill' | 'stop' | 'term' | 'partition' | 'degrade'

/** One planned fault: begins at `startMs`, ends (restart, SIGCONT, heal) at `endMs`, both from the run's start. */
export interface PlannedFault {
  readonly kind: FaultKind
  /** the faulty nodes: the victim, or a partition's minority side */
  readonly nodes: readonly number[]
  /** partition: every side, minority last */
  readonly groups?: ReadonlyArray<readonly number[]>
  readonly loss?: number
  readonly delayMs?: number
  readonly startMs: number
  readonly endMs: number
}

/** Options of {@link planFaults}. */
export interface FaultPlanOptions {
  readonly nodes: number
  /** first fault no earlier than this (ms from the run's start) */
  readonly fromMs: number
  /** every fault ends by this */
  readonly untilMs: number
  /** most nodes faulty at once; default 2 */
  readonly maxFaulty?: number
  /**
   * How long a fault must last for the checker to judge it (bounds.ts): a
   * long pause past hang detection, a partition past hang detection and the
   * partitioned observers' allowance. Shorter, the checker had no sample
   * past its bound, and "no dead instance served" could not fail for them.
   */
  readonly judgeMs?: { readonly hang: number, readonly partition: number }
}

const KINDS: readonly FaultKind[] = ['kill', 'stop', 'term', 'partition', 'degrade']
const OTHERS = KINDS.filter(k => k !== 'partition')
// a node gets this long after a fault ends (restarted, resumed) before the next one on it
const NODE_REST_MS = 1500
const MIN_FAULT_MS = 1500

/**
 * A seeded fault schedule: the same seed and options give the same plan.
 * The first faults take every kind once (shuffled), then kinds are drawn at
 * random. A node has one fault at a time, at most `maxFaulty` nodes are
 * faulty at once, and a partition is alone: it begins once every other
 * fault has ended and rested, and nothing begins until a hang detection
 * after its heal.
 */
export function planFaults (random: Random, opts: FaultPlanOptions): PlannedFault[] {
  const maxFaulty = Math.min(opts.maxFaulty ?? 2, opts.nodes - 1)
  const plan: PlannedFault[] = []
  if (maxFaulty < 1) return plan
  const between = (lo: number, hi: number): number => lo + random.next() * (hi - lo)
  const firstKinds = shuffle([...KINDS], random)
  // after a heal, every node's Lifeguard health takes some probe periods to recover
  const settleMs = NODE_REST_MS + (opts.judgeMs?.hang ?? 0)
  let partitionDrawn = false
  let last: PlannedFault | undefined
  let t = opts.fromMs
  while (t + MIN_FAULT_MS <= opts.untilMs) {
    const busy = new Set<number>()
    let clearAt = t
    let partitionUntil = -Infinity
    for (const f of plan) {
      if (f.kind === 'partition' && f.endMs + settleMs > t) partitionUntil = f.endMs + settleMs
      if (f.endMs + NODE_REST_MS <= t) continue
      for (const n of f.nodes) busy.add(n)
      clearAt = Math.max(clearAt, f.endMs + NODE_REST_MS)
    }
    // A partition holds the whole cluster: the checker allows every death
    // judged beside one Lifeguard's stretched timeouts, so a kill, pause or
    // stop beside a partition would be judged by nothing strict.
    if (partitionUntil > t) {
      t = partitionUntil
      continue
    }
    if (partitionDrawn && busy.size > 0) {
      t = clearAt
      continue
    }
    const free = Array.from({ length: opts.nodes }, (_, k) => k + 1).filter(n => !busy.has(n))
    // a node counts as faulty until its rest after the fault is over (a restart takes a while)
    const room = maxFaulty - busy.size
    if (room < 1 || free.length === 0) {
      // wait for the earliest fault (or rest period) to end
      const next = Math.min(...plan.map(f => f.endMs + NODE_REST_MS).filter(e => e > t))
      t = Number.isFinite(next) ? next : t + 500
      continue
    }
    let kind: FaultKind = partitionDrawn ? 'partition' : firstKinds.shift() ?? KINDS[Math.floor(random.next() * KINDS.length)]
    // a partition holds the cluster alone: after one, the others get at least as long before the next
    if (kind === 'partition' && !partitionDrawn && last !== undefined && t < 2 * last.endMs - last.startMs) kind = OTHERS[Math.floor(random.next() * OTHERS.length)]
    if (kind === 'partition' && opts.nodes < 3) kind = 'degrade'
    // a partition waits until no other fault (nor its rest) is in force
    partitionDrawn = kind === 'partition' && busy.size > 0
    if (partitionDrawn) continue
    const pick = shuffle([...free], random)
    const startMs = Math.round(t)
    const cap = (ms: number): number => Math.round(Math.min(startMs + ms, opts.untilMs))
    if (kind === 'partition') {
      const size = Math.min(room, pick.length, random.next() < 0.5 ? 1 : 2)
      const minority = pick.slice(0, size).sort((a, b) => a - b)
      const majority = Array.from({ length: opts.nodes }, (_, k) => k + 1).filter(n => !minority.includes(n))
      // one that cannot outlast its bound before the faults stop is not judged: kept short, it leaves room for the others
      const judged = opts.judgeMs?.partition ?? 0
      const fits = startMs + judged + 1000 <= opts.untilMs
      last = { kind, nodes: minority, groups: [majority, minority], startMs, endMs: cap(fits ? between(Math.max(3000, judged + 1000), Math.max(8000, judged + 4000)) : between(3000, 8000)) }
      plan.push(last)
    } else if (kind === 'degrade') {
      plan.push({ kind, nodes: [pick[0]], loss: Math.round(between(0.05, 0.3) * 100) / 100, delayMs: Math.round(between(0, 150)), startMs, endMs: cap(between(4000, 10_000)) })
    } else if (kind === 'stop') {
      // some pauses are shorter than hang detection: the member must simply carry on
      const hang = opts.judgeMs?.hang ?? 0
      const ms = random.next() < 0.25 ? between(300, 900) : between(Math.max(1500, hang + 1000), Math.max(6000, hang + 3000))
      plan.push({ kind, nodes: [pick[0]], startMs, endMs: Math.max(startMs + 300, cap(ms)) })
    } else {
      plan.push({ kind, nodes: [pick[0]], startMs, endMs: cap(between(2000, 7000)) })
    }
    t += between(500, 3000)
  }
  return plan
}

/** One line per planned fault, for the run's header. */
export function describePlan (plan: readonly PlannedFault[]): string {
  return plan.map(f => {
    const what = f.kind === 'partition'
      ? `partition ${f.groups?.map(g => g.map(n => `n${n}`).join(',')).join(' | ')}`
      : f.kind === 'degrade' ? `degrade n${f.nodes[0]} loss ${f.loss} delay ${f.delayMs} ms` : `${f.kind} n${f.nodes[0]}`
    return `  ${(f.startMs / 1000).toFixed(1)}s-${(f.endMs / 1000).toFixed(1)}s ${what}`
  }).join('\n')
}

/**
 * Carries out a plan against a LocalCluster (started with `faults: true`),
 * recording every action. Each node's actions run one after another, so a
 * restart has finished before the node's next fault begins.
 */
export class FaultRunner {
  private readonly stopped = new Set<number>()
  private readonly degraded = new Set<number>()
  /** nodes in a fault now (a failed restart keeps its node here) */
  private readonly faulty = new Set<number>()
  private partitioned = false
  private readonly perNode = new Map<number, Promise<void>>()

  constructor (private readonly cluster: LocalCluster, private readonly history: History, private readonly opts: { maxFaulty?: number, log?: (line: string) => void } = {}) {}

  /** Runs every planned fault from `t0` on; resolves when all have ended (or `signal` aborts). */
  async run (plan: readonly PlannedFault[], t0: number, signal: AbortSignal): Promise<void> {
    // every planned fault waits on the one signal
    setMaxListeners(2 * plan.length + 10, signal)
    await Promise.all(plan.map(async f => await this.one(f, t0, signal)))
  }

  /**
   * Ends every fault still in force: heals the partition, removes loss and
   * delay, resumes stopped nodes and restarts any node not running (also one
   * that died by itself). Resolves once every node sees every node ALIVE.
   */
  async healAll (timeoutMs = 60_000): Promise<void> {
    await Promise.all(this.perNode.values())
    if (this.partitioned) this.act('heal', [], () => { this.cluster.heal() })
    this.partitioned = false
    for (const n of [...this.degraded]) this.act('undegrade', [n], () => { this.cluster.degrade(n, 0, 0) })
    this.degraded.clear()
    for (const n of [...this.stopped]) await this.actAsync('cont', [n], async () => { await this.cluster.kill(n, 'SIGCONT') })
    this.stopped.clear()
    for (const info of this.cluster.nodes()) {
      if (!info.running) await this.actAsync('restart', [info.index], async () => { await this.cluster.restart(info.index, { timeoutMs }) })
    }
    await this.cluster.waitAllAlive(timeoutMs)
  }

  private async one (f: PlannedFault, t0: number, signal: AbortSignal): Promise<void> {
    const node = f.nodes[0]
    // a partition waits for every earlier fault (a slow restart) to have ended, as planned
    const lock = f.kind === 'partition' ? Promise.all(this.perNode.values()) : this.perNode.get(node)
    const task = (async () => {
      await sleepUntil(t0 + f.startMs, signal)
      await lock
      if (signal.aborted) return
      // the plan keeps to the limits on paper; a slow restart can still push a fault late, so check again
      const late = Date.now() >= t0 + f.endMs
      const max = this.opts.maxFaulty ?? 2
      if (late || f.nodes.some(n => this.faulty.has(n)) || this.faulty.size + f.nodes.length > max) {
        this.opts.log?.(`  skipped ${f.kind} ${f.nodes.map(n => `n${n}`).join(',')} planned at ${(f.startMs / 1000).toFixed(1)}s: ${late ? 'its slot passed while an earlier fault ended' : `${[...this.faulty].map(n => `n${n}`).join(',')} already faulty`}`)
        return
      }
      for (const n of f.nodes) this.faulty.add(n)
      await this.begin(f)
      await sleepUntil(t0 + f.endMs, signal)
      if (await this.end(f)) for (const n of f.nodes) this.faulty.delete(n)
    })()
    const done = task.catch(() => {})
    for (const n of f.nodes) this.perNode.set(n, done)
    await done
  }

  private async begin (f: PlannedFault): Promise<boolean> {
    const n = f.nodes[0]
    switch (f.kind) {
      case 'kill': return await this.actAsync('kill', [n], async () => { await this.cluster.kill(n, 'SIGKILL', { timeoutMs: 30_000 }) })
      case 'term': return await this.actAsync('term', [n], async () => { await this.cluster.kill(n, 'SIGTERM', { timeoutMs: 30_000 }) })
      case 'stop':
        this.stopped.add(n)
        return await this.actAsync('stop', [n], async () => { await this.cluster.kill(n, 'SIGSTOP') })
      case 'partition':
        this.partitioned = true
        return this.act('partition', f.nodes, () => { this.cluster.partition((f.groups ?? []).map(g => [...g])) }, { groups: f.groups })
      case 'degrade':
        this.degraded.add(n)
        return this.act('degrade', [n], () => { this.cluster.degrade(n, f.loss ?? 0, f.delayMs ?? 0) }, { loss: f.loss, delayMs: f.delayMs })
    }
  }

  /** Ends a fault; false when it could not (a restart that never answered). */
  private async end (f: PlannedFault): Promise<boolean> {
    const n = f.nodes[0]
    switch (f.kind) {
      case 'kill':
      case 'term':
        if (this.cluster.node(n).running) return true
        return await this.actAsync('restart', [n], async () => { await this.cluster.restart(n, { timeoutMs: 60_000 }) })
      case 'stop':
        this.stopped.delete(n)
        return await this.actAsync('cont', [n], async () => { await this.cluster.kill(n, 'SIGCONT') })
      case 'partition':
        this.partitioned = false
        return this.act('heal', f.nodes, () => { this.cluster.heal() })
      case 'degrade':
        this.degraded.delete(n)
        return this.act('undegrade', [n], () => { this.cluster.degrade(n, 0, 0) })
    }
  }

  private act (action: FaultAction, nodes: readonly number[], fn: () => void, extra: { groups?: ReadonlyArray<readonly number[]>, loss?: number, delayMs?: number } = {}): boolean {
    const e = this.history.record<FaultEntry>({ kind: 'fault', action, nodes, ...defined(extra) })
    try {
      fn()
      e.doneAt = e.t
      return true
    } catch (err) {
      e.error = err instanceof Error ? err.message : String(err)
      return false
    }
  }

  private async actAsync (action: FaultAction, nodes: readonly number[], fn: () => Promise<void>): Promise<boolean> {
    const e = this.history.record<FaultEntry>({ kind: 'fault', action, nodes })
    try {
      await fn()
      e.doneAt = Date.now()
      return true
    } catch (err) {
      e.error = err instanceof Error ? err.message : String(err)
      return false
    }
  }
}

function defined<T extends object> (o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** Sleeps until wall-clock `at`; resolves early (without throwing) when `signal` aborts. */
export async function sleepUntil (at: number, signal?: AbortSignal): Promise<void> {
  const ms = at - Date.now()
  if (ms <= 0 || signal?.aborted === true) return
  await sleep(ms, undefined, { signal }).catch(() => {})
}
