import type { AnswerEntry, EntryOf, HistoryEntry, MetaEntry, WatchEventEntry } from './history.js'

/**
 * Indexes over a recorded history that the checker's invariants share:
 * each node's processes, pauses and degradations, the partitions, each
 * instance's lives, and the answers and watch events per key and service.
 * Built from the history alone (pure), so a dumped run can be checked again.
 */

/** A closed-open time span, ms. */
export interface Span {
  readonly from: number
  readonly to: number
}

/**
 * One process of a node: spawned at `start`, answering from `readyAt`, gone
 * at `end` (its exit was seen; Infinity while it runs). `killedAt` is when
 * the runner signalled it to die (its last moment may be any time from then to `end`).
 */
export interface Proc {
  readonly start: number
  readyAt: number
  killedAt: number
  end: number
}

/** What happened to one node. */
export interface NodeTimeline {
  readonly procs: Proc[]
  /** SIGSTOP to SIGCONT */
  readonly freezes: Span[]
  /** loss and delay on its incoming gossip */
  readonly degrades: Span[]
}

/** One life of an instance: from the client's start (its first Register is sent next) to its deregister or stop. */
export interface Life {
  readonly key: string
  readonly service: string
  readonly life: number
  readonly startAt: number
  endAt?: number
  endKind?: 'deregister' | 'stop'
  endSeq?: number
  /** when the instance's next life starts (records registered from then on are not this life's) */
  nextStartAt: number
}

/** The indexes. */
export interface Model {
  readonly entries: readonly HistoryEntry[]
  readonly meta: EntryOf<'meta'>
  readonly nodes: number[]
  /** node index by peer id */
  readonly nodeOf: ReadonlyMap<string, number>
  readonly timelines: ReadonlyMap<number, NodeTimeline>
  readonly partitions: ReadonlyArray<Span & { readonly groups: ReadonlyArray<readonly number[]> }>
  readonly lives: ReadonlyMap<string, Life[]>
  /** Register and Heartbeat answers per instance key, in order */
  readonly writes: ReadonlyMap<string, Array<EntryOf<'answer'>>>
  /** successful Discover answers per service, in order */
  readonly discovers: ReadonlyMap<string, Array<EntryOf<'answer'>>>
  /** watch UPSERTs per instance key */
  readonly upserts: ReadonlyMap<string, Array<EntryOf<'watch-event'>>>
  /** end of the run: the 'done' phase, else the last entry */
  readonly end: number
  /** earliest answer time of a call to `node` sent at or after `t` that succeeded */
  readonly firstOkAfter: (node: number, t: number) => number
}

/** Builds the indexes; throws if the history has no meta entry. */
export function buildModel (all: readonly HistoryEntry[]): Model {
  // what happens after the final checks (the cluster stopping) is not part of the run
  const done = all.findIndex(e => e.kind === 'phase' && e.name === 'done')
  const entries = done === -1 ? all : all.slice(0, done + 1)
  const meta = entries.find((e): e is EntryOf<'meta'> => e.kind === 'meta')
  if (meta === undefined) throw new Error('history has no meta entry')
  const nodes = Array.from({ length: meta.nodes }, (_, k) => k + 1)
  const nodeOf = new Map(meta.nodeIds.map((id, k) => [id, k + 1]))
  const timelines = new Map<number, NodeTimeline>(nodes.map(n => [n, { procs: [{ start: -Infinity, readyAt: -Infinity, killedAt: Infinity, end: Infinity }], freezes: [], degrades: [] }]))
  const open = { freeze: new Map<number, number>(), degrade: new Map<number, number>() }
  const partitions: Array<Span & { groups: ReadonlyArray<readonly number[]> }> = []
  let partition: { from: number, groups: ReadonlyArray<readonly number[]> } | undefined
  const lives = new Map<string, Life[]>()
  const writes = new Map<string, Array<EntryOf<'answer'>>>()
  const discovers = new Map<string, Array<EntryOf<'answer'>>>()
  const upserts = new Map<string, Array<EntryOf<'watch-event'>>>()
  const okByNode = new Map<number, Array<{ sentAt: number, t: number }>>(nodes.map(n => [n, []]))
  const push = <K, V>(m: Map<K, V[]>, k: K, v: V): void => {
    const l = m.get(k)
    if (l === undefined) m.set(k, [v])
    else l.push(v)
  }
  const lastProc = (n: number): Proc => timelines.get(n)!.procs.at(-1)!
  const died = (n: number, t: number): void => {
    const p = lastProc(n)
    p.end = Math.min(p.end, t)
    p.killedAt = Math.min(p.killedAt, t)
  }

  const end = entries.at(-1)?.t ?? meta.t
  for (const e of entries) {
    switch (e.kind) {
      case 'fault':
        for (const n of e.nodes) {
          const tl = timelines.get(n)
          if (tl === undefined) continue
          if (e.action === 'kill' || e.action === 'term') {
            // the exit entry sets the precise time; doneAt (when the exit was seen) bounds it
            lastProc(n).killedAt = Math.min(lastProc(n).killedAt, e.t)
            if (e.doneAt !== undefined) died(n, e.doneAt)
          } else if (e.action === 'restart') {
            died(n, e.t)
            tl.procs.push({ start: e.t, readyAt: e.doneAt ?? Infinity, killedAt: Infinity, end: Infinity })
          } else if (e.action === 'stop') {
            open.freeze.set(n, e.t)
          } else if (e.action === 'cont') {
            tl.freezes.push({ from: open.freeze.get(n) ?? e.t, to: e.t })
            open.freeze.delete(n)
          } else if (e.action === 'degrade') {
            open.degrade.set(n, e.t)
          } else if (e.action === 'undegrade') {
            tl.degrades.push({ from: open.degrade.get(n) ?? e.t, to: e.t })
            open.degrade.delete(n)
          }
        }
        if (e.action === 'partition') partition = { from: e.t, groups: e.groups ?? [] }
        if (e.action === 'heal' && partition !== undefined) {
          partitions.push({ ...partition, to: e.t })
          partition = undefined
        }
        break
      case 'exit':
        died(e.node, e.t)
        break
      case 'client':
        if (e.action === 'start') {
          const [service] = e.key.split('/')
          const prev = lives.get(e.key)?.at(-1)
          if (prev !== undefined) prev.nextStartAt = e.t
          push(lives, e.key, { key: e.key, service, life: e.life, startAt: e.t, nextStartAt: Infinity })
        } else {
          const l = lives.get(e.key)?.find(x => x.life === e.life)
          if (l !== undefined && l.endAt === undefined) {
            l.endAt = e.t
            l.endKind = e.action
            l.endSeq = e.seq
          }
        }
        break
      case 'answer':
        if (e.ok) okByNode.get(e.node)?.push({ sentAt: e.sentAt, t: e.t })
        if ((e.op === 'Register' || e.op === 'Heartbeat') && e.key !== undefined) push(writes, e.key, e)
        if (e.op === 'Discover' && e.ok && e.service !== undefined) push(discovers, e.service, e)
        break
      case 'watch-event':
        if (e.type === 'UPSERT' && e.key !== undefined) push(upserts, e.key, e)
        break
      default:
        break
    }
  }
  for (const [n, from] of open.freeze) timelines.get(n)!.freezes.push({ from, to: Infinity })
  for (const [n, from] of open.degrade) timelines.get(n)!.degrades.push({ from, to: Infinity })
  if (partition !== undefined) partitions.push({ ...partition, to: Infinity })
  return { entries, meta, nodes, nodeOf, timelines, partitions, lives, writes, discovers, upserts, end, firstOkAfter: firstOkIndex(okByNode) }
}

// per node: ok answers sorted by send time, with the earliest answer time from each position on
function firstOkIndex (okByNode: Map<number, Array<{ sentAt: number, t: number }>>): (node: number, t: number) => number {
  const index = new Map<number, { sent: number[], minT: number[] }>()
  for (const [n, list] of okByNode) {
    list.sort((a, b) => a.sentAt - b.sentAt)
    const minT = new Array<number>(list.length)
    let m = Infinity
    for (let i = list.length - 1; i >= 0; i--) minT[i] = m = Math.min(m, list[i].t)
    index.set(n, { sent: list.map(x => x.sentAt), minT })
  }
  return (node, t) => {
    const ix = index.get(node)
    if (ix === undefined) return Infinity
    let lo = 0
    let hi = ix.sent.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (ix.sent[mid] < t) lo = mid + 1
      else hi = mid
    }
    return lo < ix.sent.length ? ix.minT[lo] : Infinity
  }
}

/** The process of `node` running at `t`, if any. */
export function procAt (m: Model, node: number, t: number): Proc | undefined {
  return m.timelines.get(node)?.procs.find(p => p.start <= t && t < p.end)
}

/** True when some span of `spans` overlaps [from, to]. */
export function overlaps (spans: readonly Span[], from: number, to: number): boolean {
  return spans.some(s => s.from <= to && s.to >= from)
}

/** Nodes a partition in force at some time in [from, to] separates from `node`. */
export function cutOffFrom (m: Model, node: number, from: number, to: number): Set<number> {
  const out = new Set<number>()
  for (const p of m.partitions) {
    if (!(p.from <= to && p.to >= from)) continue
    const mine = p.groups.find(g => g.includes(node))
    for (const n of m.nodes) if (n !== node && (mine === undefined || !mine.includes(n))) out.add(n)
  }
  return out
}

/**
 * True while `node` may still serve a stale view at `t`: it was frozen
 * within `catchUpMs` before `t`, or its process started and began
 * answering (the launcher saw it ready) less than `catchUpMs` before `t`.
 */
export function catchingUp (m: Model, node: number, t: number, catchUpMs: number): boolean {
  const tl = m.timelines.get(node)
  if (tl === undefined) return false
  if (overlaps(tl.freezes, t - catchUpMs, t)) return true
  return tl.procs.some(p => p.start > -Infinity && p.start <= t && t <= p.readyAt + catchUpMs)
}

/** Whether an answer shows `key` from a life registered before `before`. */
export function shows (a: AnswerEntry, key: string, before: number): Observed | undefined {
  return a.instances?.find(i => i.key === key && i.registeredAt < before)
}

type Observed = NonNullable<AnswerEntry['instances']>[number]

/** Statuses served in healthy answers. */
export const HEALTHY: ReadonlySet<string> = new Set(['PASSING', 'WARNING'])

/** The meta entry's node ids, as "nN" for printing. */
export function nodeName (m: Model, id: string): string {
  const n = m.nodeOf.get(id)
  return n === undefined ? id.slice(-8) : `n${n}`
}

/** Type guard for watch events, for filters. */
export function isWatchEvent (e: HistoryEntry): e is WatchEventEntry & { seq: number, t: number } {
  return e.kind === 'watch-event'
}

/** The meta fields as read by the checker. */
export type Meta = MetaEntry
