import type { Logger } from 'pino'
import { WatcherOverflowError } from '../errors.js'
import { CoalescingQueue } from './watch-queue.js'
import type { Registry, ViewChange } from './registry.js'
import { compareStamps, instanceIdOfKey, serviceOfKey } from './types.js'
import type { InstanceRecord, VectorEntry } from './types.js'
import { encodeVector } from './version-vector.js'

// tokens resumed from: built from a client's, for one watcher; never kept in caches keyed by
// record (api/watch-encoding.ts), where a client's 1 MiB token stayed for as long as the record
const catchUpTokens = new WeakSet<Uint8Array>()

/** True for the token a resume's catch-up events carry (one watcher's, from a client). */
export function isCatchUpToken (token: Uint8Array): boolean {
  return catchUpTokens.has(token)
}

/** What a watcher wants: one service ('' = all) and tags it must carry. */
export interface WatchFilter {
  readonly service: string
  readonly tags: readonly string[]
}

/** One event to a watcher; `token` resumes right after it on any node. */
export type WatchEvent =
  | { readonly type: 'UPSERT', readonly record: InstanceRecord, readonly token: Uint8Array }
  | { readonly type: 'DELETE', readonly service: string, readonly instanceId: string, readonly token: Uint8Array }
  | { readonly type: 'SYNCED', readonly token: Uint8Array }
  /** a resume could not be honoured: the watcher drops what it holds; a fresh snapshot follows */
  | { readonly type: 'RESET', readonly token: Uint8Array }

/** Where a watcher's events go (a gRPC stream in production). */
export interface WatchSink {
  /** writes one event; false when the sink is full (then wait for onDrain) */
  write: (event: WatchEvent) => boolean
  /** calls `cb` once when the sink can take more */
  onDrain: (cb: () => void) => void
  /** ends the watch with an error (overflow) */
  fail: (err: Error) => void
}

/** Collaborators of the hub. */
export interface WatchHubComponents {
  readonly registry: Registry
  readonly logger: Logger
  /** asks anti-entropy to pull now: a resumed watch is ahead of this node */
  readonly requestCatchUp: () => void
}

/** Options of the hub. */
export interface WatchHubInit {
  readonly queueMax: number
  readonly catchUpMs: number
}

/** A handle to close a watch. */
export interface WatchHandle {
  close: () => void
}

// SYNCED has no key of its own; this one sorts it among the per-key events
const SYNCED_KEY = '\u0000synced'
// the token of snapshot events: resumed from on any node, it means RESET and a fresh snapshot
const EMPTY_TOKEN = encodeVector([])
// RESET goes before the snapshot that follows it (the queue is in insertion order)
const RESET_KEY = '\u0000reset'

/**
 * Fans view changes out to watchers. It never blocks the registry: each
 * watcher has a bounded queue that coalesces to the latest state per key;
 * a watcher whose queue overflows is cut off and resumes with its token.
 */
export class WatchHub {
  private readonly watchers = new Set<Watcher>()
  private tokenCache: { version: number, token: Uint8Array } | undefined
  /** the token after the last batch dispatched: the "before" of the next one; unset while nobody watches */
  private lastToken: Uint8Array | undefined
  private readonly unsubscribe: () => void

  constructor (private readonly components: WatchHubComponents, private readonly init: WatchHubInit) {
    this.unsubscribe = components.registry.subscribe(changes => { this.dispatch(changes) })
  }

  /** Number of open watchers. */
  get size (): number {
    return this.watchers.size
  }

  /** The current resume token (the encoded version vector), cached while unchanged. */
  token (): Uint8Array {
    const r = this.components.registry
    if (this.tokenCache?.version !== r.vectorVersion) this.tokenCache = { version: r.vectorVersion, token: encodeVector(r.vector()) }
    return this.tokenCache.token
  }

  /**
   * Opens a watch: a snapshot of the matching set then SYNCED, or, with a
   * resume vector, only what changed since it then SYNCED; then live changes.
   */
  open (filter: WatchFilter, resume: VectorEntry[] | null, sink: WatchSink): WatchHandle {
    const w = new Watcher(filter, sink, this.init.queueMax, () => { this.drop(w) })
    // between batches: the current state is the "before" of the next one
    this.lastToken ??= this.token()
    this.watchers.add(w)
    if (resume == null) {
      this.sendSnapshot(w)
    } else {
      this.resume(w, resume, performance.now() + this.init.catchUpMs)
    }
    return { close: () => { this.drop(w) } }
  }

  /** Closes every watcher and detaches from the registry. */
  close (): void {
    for (const w of this.watchers) w.closed = true
    this.watchers.clear()
    this.unsubscribe()
  }

  // A token says "everything up to here was sent". Within one batch only the last
  // event a watcher gets may carry the state after the batch; the ones before it
  // carry the state before the batch, so a stream cut mid-batch resumes with the
  // whole batch again (UPSERTs and DELETEs are idempotent) rather than without its tail.
  private dispatch (changes: readonly ViewChange[]): void {
    // encoding the vector cost an unwatched owner several % of its CPU under a Register load
    if (this.watchers.size === 0) {
      this.lastToken = undefined
      return
    }
    const after = this.token()
    const before = this.lastToken ?? after
    this.lastToken = after
    for (const w of this.watchers) {
      if (!w.live) continue
      let last = -1
      for (let i = 0; i < changes.length; i++) if (w.wants(changes[i].before, changes[i].after)) last = i
      for (let i = 0; i <= last; i++) w.offer(changes[i].key, changes[i].before, changes[i].after, i === last ? after : before)
      w.flush()
    }
  }

  // Snapshot events carry the empty vector's token: resumed mid-snapshot on any node,
  // a watch gets a RESET and the whole snapshot again. Only SYNCED carries the current token.
  private sendSnapshot (w: Watcher): void {
    const token = this.token()
    const services = w.filter.service === '' ? this.components.registry.services() : one(this.components.registry, w.filter.service)
    for (const [, records] of services) {
      for (const [key, r] of records) w.offer(key, null, r, EMPTY_TOKEN, true)
    }
    this.goLive(w, token)
  }

  // Sends what changed since `vector`; waits (briefly) while this node is behind it.
  private resume (w: Watcher, vector: VectorEntry[], deadline: number): void {
    if (w.closed) return
    if (vector.length === 0) {
      // the token of snapshot events (or of an empty registry): the watcher may hold any key,
      // including ones whose tombstones are gone by now; only a RESET and a snapshot are exact
      w.queueReset()
      this.sendSnapshot(w)
      return
    }
    const keys = this.changedSince(vector)
    if (keys === 'behind' && performance.now() < deadline) {
      this.components.requestCatchUp()
      setTimeout(() => { this.resume(w, vector, deadline) }, 50).unref()
      return
    }
    if (keys === 'behind' || keys === 'unknown') {
      this.components.logger.warn({ owners: vector.length, why: keys }, 'cannot resume from this token; sending RESET and a fresh snapshot')
      // without it the watcher would keep keys deleted meanwhile (the snapshot has no DELETEs)
      w.queueReset()
      this.sendSnapshot(w)
      return
    }
    const token = this.token()
    // catch-up events carry the token resumed from: cut mid-way, the next resume sends them all again
    const from = encodeVector(vector)
    catchUpTokens.add(from)
    const reg = this.components.registry
    for (const key of keys) {
      const service = serviceOfKey(key)
      const r = reg.get(service, key) ?? null
      // the watcher may have had the key: a DELETE it did not need is harmless, a missed one is not
      w.offer(key, { service }, r, from, true)
    }
    this.goLive(w, token)
  }

  /**
   * Keys changed since `vector`; 'behind' when this node has not caught up
   * with it yet; 'unknown' when it cannot tell what changed for some owner
   * the token names (its tombstones pruned, a new epoch, a reaped owner):
   * then only a RESET and a fresh snapshot are exact.
   */
  private changedSince (vector: VectorEntry[]): Set<string> | 'behind' | 'unknown' {
    const reg = this.components.registry
    const theirs = new Map(vector.map(e => [e.owner, e]))
    for (const e of vector) {
      const o = reg.owners.get(e.owner)
      // a gone owner was forgotten on purpose: waiting would not bring it back
      if (o?.liveness === 'gone') continue
      // dropped since (gone, and membership forgot it): a token from while it had records may
      // have given the watcher some, whose deletes this node can no longer tell
      if (o == null && reg.wasDropped(e.owner)) {
        if (e.seq > 0) return 'unknown'
        continue
      }
      // ahead of us: in seq, or in epoch where we hold the older epoch's records (sent as they are,
      // they would take the watch back to records the owner's restart dropped)
      if (o == null ? e.seq > 0 : compareStamps(e, o.head) > 0 && (e.seq > 0 || o.entries.size > 0)) return 'behind'
    }
    const keys = new Set<string>()
    for (const o of reg.owners.values()) {
      const t = theirs.get(o.owner)
      // gone here, and gone where the token was made: the watcher holds nothing of it. Without
      // this, every resume after a member left sent its deletes again, or, once its tombstones
      // were pruned, a RESET and the whole registry. A token that does not name it is no such
      // proof: an event cut mid-batch, or a catch-up event, carries a token from before the records
      if (o.liveness === 'gone' && t?.liveness === 'gone') continue
      const delta = t == null ? null : o.deltaSince(t)
      // an owner the token does not know (or at seq 0): everything this node holds of it is news.
      // The watcher may still hold some of its keys (events cut mid-batch carry the token before
      // the batch): with tombstones of this epoch pruned, their deletes can no longer be told
      if (t == null || (delta == null && t.seq === 0)) {
        if (o.floor.seq > 0) return 'unknown'
        for (const e of o.entries.values()) keys.add(e.key)
        continue
      }
      if (delta == null) return 'unknown'
      // DEAD or back: every record's shown status changed
      for (const e of t.liveness !== o.liveness ? o.entries.values() : delta) keys.add(e.key)
    }
    return keys
  }

  private goLive (w: Watcher, token: Uint8Array): void {
    w.queueSynced(token)
    w.live = true
    w.flush()
  }

  private drop (w: Watcher): void {
    w.closed = true
    this.watchers.delete(w)
  }
}

function one (registry: Registry, service: string): Array<[string, ReadonlyMap<string, InstanceRecord>]> {
  const m = registry.service(service)
  return m == null ? [] : [[service, m]]
}

class Watcher {
  readonly queue: CoalescingQueue<WatchEvent>
  private readonly max: number
  live = false
  closed = false
  private waiting = false

  constructor (readonly filter: WatchFilter, private readonly sink: WatchSink, max: number, private readonly onDrop: () => void) {
    this.max = max
    this.queue = new CoalescingQueue(max)
  }

  /** Whether a change means an event to this watcher. */
  wants (before: Pick<InstanceRecord, 'service'> | null, after: InstanceRecord | null): boolean {
    return (after != null && this.matches(after)) || this.mayHold(before)
  }

  /** Queues the event a change means to this watcher; `initial` (snapshot, resume) is not bounded. */
  offer (key: string, before: Pick<InstanceRecord, 'service'> | null, after: InstanceRecord | null, token: Uint8Array, initial = false): void {
    if (this.closed) return
    let event: WatchEvent | undefined
    if (after != null && this.matches(after)) {
      event = { type: 'UPSERT', record: after, token }
    } else if (before != null && this.mayHold(before)) {
      event = { type: 'DELETE', service: before.service, instanceId: instanceIdOfKey(key), token }
    }
    if (event == null) return
    if (initial) {
      this.queue.pushInitial(key, event)
      return
    }
    // a key whose snapshot (or catch-up) event has not gone out yet is updated where it stands,
    // ahead of SYNCED, and keeps that event's older token (see CoalescingQueue)
    const waiting = this.queue.initialEvent(key)
    if (waiting !== undefined) {
      this.queue.pushInitial(key, { ...event, token: waiting.token })
      return
    }
    if (!this.queue.push(key, event)) this.overflow()
  }

  queueReset (): void {
    this.queue.pushInitial(RESET_KEY, { type: 'RESET', token: EMPTY_TOKEN })
  }

  queueSynced (token: Uint8Array): void {
    this.queue.pushInitial(SYNCED_KEY, { type: 'SYNCED', token })
  }

  /** Writes queued events until the sink is full. */
  flush (): void {
    while (!this.closed && !this.waiting) {
      const ev = this.queue.shift()
      if (ev == null) return
      if (!this.sink.write(ev)) {
        this.waiting = true
        this.sink.onDrain(() => {
          this.waiting = false
          this.flush()
        })
      }
    }
  }

  private matches (r: InstanceRecord): boolean {
    if (!this.matchesService(r.service)) return false
    for (const t of this.filter.tags) if (!r.tags.includes(t)) return false
    return true
  }

  // Whether the watcher may hold the key `before` was: a whole record it holds only if it
  // matched (a change of a record of other tags is no DELETE); of a bare service (a resume,
  // which knows only the key) it may, and a DELETE it did not need is harmless
  private mayHold (before: Pick<InstanceRecord, 'service'> | null): boolean {
    if (before == null) return false
    return 'tags' in before ? this.matches(before as InstanceRecord) : this.matchesService(before.service)
  }

  private matchesService (service: string): boolean {
    return this.filter.service === '' || this.filter.service === service
  }

  private overflow (): void {
    this.queue.clear()
    this.onDrop()
    this.sink.fail(new WatcherOverflowError(`watcher fell more than ${this.max} events behind; resume with the last token`))
  }
}
