import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import type { Bounds } from './bounds.js'

/**
 * The chaos run's recorded history: every call and its answer, every watch
 * event and every fault, stamped with wall-clock time. Wall-clock (not a
 * monotonic clock) because the nodes run on this machine and stamp
 * `registered_at_ms` with the same clock, so the checker can compare them.
 * Entries are plain JSON so a run can be dumped and checked again offline.
 */

/** One instance as a Discover answer or a watch event showed it. */
export interface Observed {
  /** "service/instance_id" */
  readonly key: string
  readonly status: string
  /** owner node id (libp2p peer id) */
  readonly owner: string
  readonly registeredAt: number
}

/** What the run was: written first, read by the checker. */
export interface MetaEntry {
  readonly kind: 'meta'
  readonly seed: number
  readonly nodes: number
  /** peer id of node i at index i-1 (stable across restarts: same data dir) */
  readonly nodeIds: readonly string[]
  readonly services: readonly string[]
  readonly instances: number
  readonly ttlMs: number
  readonly durationMs: number
  /** wall-clock time faults (and client churn) stop */
  readonly faultsEndAt: number
  readonly profile: string
  readonly bounds: Bounds
}

/** Fault actions; `restart` and `heal-all` end faults. */
export type FaultAction = 'kill' | 'term' | 'stop' | 'cont' | 'restart' | 'partition' | 'heal' | 'degrade' | 'undegrade'

/** A fault action: `t` when issued, `doneAt` when it took effect (exit seen, restarted node answering). */
export interface FaultEntry {
  readonly kind: 'fault'
  readonly action: FaultAction
  readonly nodes: readonly number[]
  readonly groups?: ReadonlyArray<readonly number[]>
  readonly loss?: number
  readonly delayMs?: number
  doneAt?: number
  error?: string
}

/** A node process ended; `expected` when the runner caused it. */
export interface ExitEntry {
  readonly kind: 'exit'
  readonly node: number
  readonly code: number | null
  readonly signal: string | null
  readonly expected: boolean
}

/** The unary methods the run calls. */
export type CallOp = 'Register' | 'Heartbeat' | 'Deregister' | 'Discover' | 'Status'

/** A unary call was sent. */
export interface CallEntry {
  readonly kind: 'call'
  readonly id: number
  readonly node: number
  readonly op: CallOp
  /** instance key for Register/Heartbeat/Deregister */
  readonly key?: string
  readonly service?: string
}

/** A unary call's answer (or failure); `t` is when it came back. */
export interface AnswerEntry {
  readonly kind: 'answer'
  readonly id: number
  readonly node: number
  readonly op: CallOp
  readonly sentAt: number
  readonly ok: boolean
  /** gRPC status code name on failure (DEADLINE_EXCEEDED, NOT_FOUND...) */
  readonly code?: string
  readonly key?: string
  /** which life of the instance (1, 2...) a Register/Heartbeat/Deregister belongs to */
  readonly life?: number
  readonly service?: string
  /** Discover: the sampler round (rounds cover every node and service) */
  readonly round?: number
  /** Discover / Status: taken for the final checks */
  readonly final?: boolean
  /** Discover (include_unhealthy) answer */
  readonly instances?: readonly Observed[]
  /** Discover: the answering node's resume token (base64) */
  readonly token?: string
  /** Status */
  readonly digest?: string
  /** Register */
  readonly registeredAt?: number
}

/** The workload's own decisions about an instance. */
export interface ClientEntry {
  readonly kind: 'client'
  /** `start`: a life begins (its first Register is sent next); `deregister` / `stop`: the life ends, no more heartbeats */
  readonly action: 'start' | 'deregister' | 'stop'
  readonly key: string
  readonly life: number
}

/** A watch stream opened; `resume` when it carried a token. */
export interface WatchOpenEntry {
  readonly kind: 'watch-open'
  readonly watcher: number
  readonly stream: number
  readonly node: number
  readonly resume: boolean
}

/** One event of a watch stream. */
export interface WatchEventEntry {
  readonly kind: 'watch-event'
  readonly watcher: number
  readonly stream: number
  readonly node: number
  readonly type: 'UPSERT' | 'DELETE' | 'SYNCED' | 'RESET'
  readonly key?: string
  readonly status?: string
  readonly owner?: string
  readonly registeredAt?: number
  readonly token: string
}

/** A watch stream ended (error, server end, or cancelled by the watcher). */
export interface WatchEndEntry {
  readonly kind: 'watch-end'
  readonly watcher: number
  readonly stream: number
  readonly node: number
  readonly reason: string
}

/**
 * A consistent cut: Discover answers of every service from the watcher's
 * node, all with the same resume token as the watcher's last event
 * (`eventSeq`), and no event arrived while they were taken. The watcher's
 * state rebuilt up to `eventSeq` must equal those answers.
 */
export interface CutEntry {
  readonly kind: 'cut'
  readonly watcher: number
  readonly stream: number
  readonly node: number
  /** seq of the watcher's last event folded into the state */
  readonly eventSeq: number
  /** seqs of the Discover answers */
  readonly answers: readonly number[]
  /** after a resume (`resume`) or at the end (`final`) */
  readonly reason: 'resume' | 'final'
}

/** No consistent cut could be taken in time. */
export interface CutFailedEntry {
  readonly kind: 'cut-failed'
  readonly watcher: number
  readonly node: number
  readonly reason: 'resume' | 'final'
  readonly detail: string
}

/** A phase of the run began. */
export interface PhaseEntry {
  readonly kind: 'phase'
  readonly name: 'started' | 'faults-end' | 'healed' | 'final' | 'done'
  readonly detail?: string
}

/** Every kind of entry, with its place and time. */
export type HistoryEntry = { readonly seq: number, readonly t: number } & (
  MetaEntry | FaultEntry | ExitEntry | CallEntry | AnswerEntry | ClientEntry |
  WatchOpenEntry | WatchEventEntry | WatchEndEntry | CutEntry | CutFailedEntry | PhaseEntry
)

/** An entry before it is stamped. */
export type NewEntry = HistoryEntry extends infer E ? E extends HistoryEntry ? Omit<E, 'seq' | 't'> : never : never

/** Narrows entries by kind. */
export type EntryOf<K extends HistoryEntry['kind']> = Extract<HistoryEntry, { kind: K }>

/** The in-memory history of one run. */
export class History {
  readonly entries: HistoryEntry[] = []
  private nextCallId = 1

  constructor (private readonly now: () => number = Date.now) {}

  /** Appends an entry stamped now (or at `t`); returns it. */
  record<E extends NewEntry> (entry: E, t = this.now()): E & { seq: number, t: number } {
    const stamped = { seq: this.entries.length, t, ...entry } as unknown as E & { seq: number, t: number }
    this.entries.push(stamped as unknown as HistoryEntry)
    return stamped
  }

  /** A fresh id for a call and its answer. */
  callId (): number {
    return this.nextCallId++
  }

  /** Writes the history as JSON lines. */
  async dump (file: string): Promise<void> {
    const out = createWriteStream(file)
    for (const e of this.entries) {
      if (!out.write(JSON.stringify(e) + '\n')) await once(out, 'drain')
    }
    out.end()
    await once(out, 'finish')
  }
}

/** Entries of one kind, in order. */
export function entriesOf<K extends HistoryEntry['kind']> (entries: readonly HistoryEntry[], kind: K): Array<EntryOf<K>> {
  return entries.filter((e): e is EntryOf<K> => e.kind === kind)
}
