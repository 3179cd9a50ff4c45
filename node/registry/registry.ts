import { createHash } from 'node:crypto'
import { OwnerState } from './owner-state.js'
import type { ApplyResult, KeyChange, OwnerDelta, OwnerSnapshot } from './owner-state.js'
import { makeRecord } from './record.js'
import { ViewDigest } from './view-digest.js'
import { serviceOfKey } from './types.js'
import { MAX_DROPPED, MAX_OWNERS } from './limits.js'
import type { InstanceRecord, Op, OpBatch, OwnerLiveness, Stamp, VectorEntry } from './types.js'

/** A change of the view: the effective record of one key before and after. */
export interface ViewChange {
  readonly key: string
  readonly service: string
  readonly before: InstanceRecord | null
  readonly after: InstanceRecord | null
}

/** Receives every batch of view changes, synchronously, in order. */
export type ViewListener = (changes: readonly ViewChange[]) => void

/** Collaborators of the registry. */
export interface RegistryComponents {
  /** a monotonic clock: it times how long tombstones are kept, on this node only */
  readonly now: () => number
}

/**
 * The replicated registry at one node: one OwnerState per owner, and the
 * view, their union. When two owners hold the same key (a client failed
 * over), the newer registration wins; a DEAD owner's records show as
 * CRITICAL; a gone (LEFT or reaped) owner's records are dropped.
 */
export class Registry {
  readonly owners = new Map<string, OwnerState>()
  // owners holding a record of each key: almost always one, kept as a plain id (a Set per key
  // was about 15 MB of heap at 100,000 instances); a Set only while several do
  private readonly holders = new Map<string, string | Set<string>>()
  private readonly byService = new Map<string, Map<string, InstanceRecord>>()
  private readonly listeners = new Set<ViewListener>()
  private readonly digestAcc = new ViewDigest()
  private liveCount = 0
  /** rises on every view change; caches of answers compare it */
  version = 0
  /** rises on every change of the version vector; token caches compare it */
  vectorVersion = 0
  private hashCache: { version: number, hash: string } | undefined
  // dropped gone owners and the head each had reached (dropGoneOwners): oldest first
  private readonly dropped = new Map<string, Stamp>()

  constructor (private readonly components: RegistryComponents) {}

  /** The owner's state, created empty on first mention (gone, with its old head, if it was dropped). */
  owner (id: string): OwnerState {
    let o = this.owners.get(id)
    if (o == null) {
      const forgotten = this.dropped.get(id)
      this.dropped.delete(id)
      o = forgotten != null ? OwnerState.gone(id, forgotten) : new OwnerState(id)
      this.owners.set(id, o)
    }
    return o
  }

  /** What this node holds of an owner: its liveness, 'gone' when dropped, undefined when never heard of. */
  livenessOf (id: string): OwnerLiveness | undefined {
    return this.owners.get(id)?.liveness ?? (this.dropped.has(id) ? 'gone' : undefined)
  }

  /** True when the owner is gone and its state was dropped (dropGoneOwners). */
  wasDropped (id: string): boolean {
    return this.dropped.has(id)
  }

  /**
   * The state of an owner a peer told us of, created if new; undefined
   * past MAX_OWNERS (a version vector, and so a resume token, holds no more):
   * a peer's made-up owners must not grow the node without bound. A gone
   * owner is kept while membership still lists the member (its state keeps
   * the reaped records from coming back from a peer that has not reaped
   * them yet), then dropped (dropGoneOwners).
   */
  private peerOwner (id: string): OwnerState | undefined {
    // a dropped owner is gone: only membership (the owner ALIVE again) brings it back
    if (this.dropped.has(id)) return undefined
    return this.owners.size < MAX_OWNERS || this.owners.has(id) ? this.owner(id) : undefined
  }

  /** Applies a gossiped batch; on 'gap' the caller pulls from the owner. */
  applyBatch (batch: OpBatch): ApplyResult {
    const o = this.peerOwner(batch.owner)
    if (o == null) return { kind: 'stale' }
    // a reaped or LEFT owner's state comes back only from the owner itself, once it is ALIVE again
    if (o.liveness === 'gone') return { kind: 'stale' }
    const result = o.applyBatch(batch, this.components.now())
    if (result.kind === 'applied') {
      this.vectorVersion++
      this.absorb(o, result.changes)
    }
    return result
  }

  /** Applies one of this node's own ops (the owner's write path). */
  applyLocal (owner: string, op: Op): void {
    const o = this.owner(owner)
    const c = o.applyOp(op, this.components.now())
    this.vectorVersion++
    this.absorb(o, c == null ? [] : [c])
  }

  /** Applies a pulled delta; false when it did not fit (pull a snapshot). */
  applyDelta (delta: OwnerDelta): boolean {
    // a delta continues what we hold: an owner we never heard of takes a snapshot (and is not made here)
    const o = this.owners.get(delta.owner)
    if (o == null) return false
    if (o.liveness === 'gone') return true
    const changes = o.applyDelta(delta, this.components.now())
    if (changes == null) return false
    this.vectorVersion++
    this.absorb(o, changes)
    return true
  }

  /** Replaces an owner's sub-map with a snapshot newer than what we hold; `source`: the node it came from. */
  applySnapshot (snap: OwnerSnapshot, source?: string): boolean {
    const o = this.peerOwner(snap.owner)
    if (o == null) return false
    // a peer that has not reaped it yet would hand back the stale sub-map we dropped
    if (o.liveness === 'gone') return false
    const changes = o.replaceWith(snap, this.components.now(), source === snap.owner)
    if (changes == null) return false
    this.vectorVersion++
    this.absorb(o, changes)
    return true
  }

  /**
   * Sets an owner's liveness from membership: 'dead' shows its records as
   * CRITICAL, 'gone' drops them (as tombstones), 'alive' restores them.
   */
  setLiveness (owner: string, liveness: OwnerLiveness): void {
    // dropped, it is gone already: a DEAD or LEFT rumour about it changes nothing
    if (liveness !== 'alive' && this.dropped.has(owner)) return
    // an owner not heard from yet keeps its verdict too: records learned later must show it
    const o = this.owner(owner)
    if (o.liveness === liveness) return
    const keys = [...o.entries.values()].filter(e => e.record != null).map(e => e.key)
    o.liveness = liveness
    this.vectorVersion++
    if (liveness === 'gone') {
      this.absorb(o, o.forget(this.components.now()))
      return
    }
    this.recompute(keys)
  }

  /**
   * Drops the state of gone owners (reaped or LEFT, nothing left to show)
   * that membership no longer lists (`listed`): membership keeps a DEAD or
   * LEFT member for deadMemberKeepMs, long after every peer has reaped it.
   * Kept in the vector for good, the ids of nodes restarted without their
   * data dir piled up in every resume token and sync request, up to the
   * MAX_OWNERS past which newer owners' records were refused. Outside the
   * vector the node still remembers each one as gone, with the head it had
   * reached (up to MAX_DROPPED, the oldest forgotten first): a peer paused
   * for longer still holds its records, and a rumour of its death may come
   * back through membership; neither may bring it back, only the owner
   * itself, ALIVE again. Returns how many were dropped.
   */
  dropGoneOwners (listed: (owner: string) => boolean): number {
    let dropped = 0
    // runs every reap tick: no copy of the map (deleting the entry being visited is safe)
    for (const o of this.owners.values()) {
      if (o.liveness !== 'gone' || o.size > 0 || listed(o.owner)) continue
      this.owners.delete(o.owner)
      this.dropped.set(o.owner, o.forgottenHead)
      dropped++
    }
    for (const id of this.dropped.keys()) {
      if (this.dropped.size <= MAX_DROPPED) break
      this.dropped.delete(id)
    }
    if (dropped > 0) this.vectorVersion++
    return dropped
  }

  /** The version vector: how far this node has caught up with each owner. */
  vector (): VectorEntry[] {
    const out: VectorEntry[] = []
    for (const o of this.owners.values()) out.push({ owner: o.owner, epoch: o.epoch, seq: o.seq, liveness: o.liveness })
    return out
  }

  /**
   * A short hash of the version vector (owners with an epoch), equal on two
   * nodes exactly when they hold the same ops: probes carry it, so a
   * mismatch (not a timer) is what starts anti-entropy.
   */
  vectorHash (): string {
    if (this.hashCache?.version !== this.vectorVersion) {
      const rows = [...this.owners.values()].filter(o => o.epoch > 0).map(o => `${o.owner}:${o.epoch}:${o.seq}`).sort()
      this.hashCache = { version: this.vectorVersion, hash: createHash('md5').update(rows.join('\n')).digest('base64').slice(0, 16) }
    }
    return this.hashCache.hash
  }

  /** Effective record of a key, or undefined. */
  get (service: string, key: string): InstanceRecord | undefined {
    return this.byService.get(service)?.get(key)
  }

  /** The view's records of one service (live map: do not mutate). */
  service (service: string): ReadonlyMap<string, InstanceRecord> | undefined {
    return this.byService.get(service)
  }

  /** Services with at least one record, with their record maps. */
  services (): IterableIterator<[string, ReadonlyMap<string, InstanceRecord>]> {
    return this.byService.entries()
  }

  /** Number of records in the view. */
  get size (): number {
    return this.liveCount
  }

  /** Hex digest of the view (see ViewDigest). */
  digest (): string {
    return this.digestAcc.hex()
  }

  /** Subscribes to view changes; returns the unsubscribe function. */
  subscribe (listener: ViewListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Prunes old tombstones of every owner. */
  prune (retentionMs: number, maxPerOwner: number): number {
    let n = 0
    const now = this.components.now()
    for (const o of this.owners.values()) n += o.pruneTombstones(now, retentionMs, maxPerOwner)
    return n
  }

  private absorb (o: OwnerState, changes: readonly KeyChange[]): void {
    if (changes.length === 0) return
    for (const c of changes) {
      if (c.after != null) this.hold(c.key, o.owner)
      else this.release(c.key, o.owner)
    }
    this.recompute(changes.map(c => c.key))
  }

  // Recomputes the effective record of each key and emits what changed.
  private recompute (keys: readonly string[]): void {
    const out: ViewChange[] = []
    for (const key of keys) {
      const service = serviceOfKey(key)
      const before = this.byService.get(service)?.get(key) ?? null
      const after = this.winner(key)
      if (sameView(before, after)) continue
      this.store(service, key, before, after)
      out.push({ key, service, before, after })
    }
    if (out.length === 0) return
    this.version++
    for (const l of this.listeners) l(out)
  }

  private hold (key: string, owner: string): void {
    const held = this.holders.get(key)
    if (held == null || held === owner) this.holders.set(key, owner)
    else if (typeof held === 'string') this.holders.set(key, new Set([held, owner]))
    else held.add(owner)
  }

  private release (key: string, owner: string): void {
    const held = this.holders.get(key)
    if (held == null) return
    if (typeof held === 'string') {
      if (held === owner) this.holders.delete(key)
      return
    }
    held.delete(owner)
    if (held.size === 1) this.holders.set(key, held.values().next().value as string)
  }

  private winner (key: string): InstanceRecord | null {
    const held = this.holders.get(key)
    if (held == null) return null
    const set = typeof held === 'string' ? [held] : held
    let best: InstanceRecord | null = null
    let bestOwner: OwnerState | null = null
    for (const id of set) {
      const o = this.owners.get(id)
      const r = o?.entries.get(key)?.record
      if (o == null || r == null || o.liveness === 'gone') continue
      if (best == null || newer(r, best)) {
        best = r
        bestOwner = o
      }
    }
    if (best == null || bestOwner == null) return null
    // a dead owner can no longer renew or expire its records: keep them out of healthy answers
    return bestOwner.liveness === 'dead' ? makeRecord(best, { status: 'CRITICAL', ownerDead: true }) : best
  }

  private store (service: string, key: string, before: InstanceRecord | null, after: InstanceRecord | null): void {
    let m = this.byService.get(service)
    if (before != null) {
      this.digestAcc.toggle(key, before)
      this.liveCount--
    }
    if (after != null) {
      if (m == null) this.byService.set(service, m = new Map())
      m.set(key, after)
      this.digestAcc.toggle(key, after)
      this.liveCount++
    } else if (m != null) {
      m.delete(key)
      if (m.size === 0) this.byService.delete(service)
    }
  }
}

/** The newer registration wins; ties go to the later update, then the larger owner id. */
export function newer (a: InstanceRecord, b: InstanceRecord): boolean {
  if (a.registeredAtMs !== b.registeredAtMs) return a.registeredAtMs > b.registeredAtMs
  if (a.updatedAtMs !== b.updatedAtMs) return a.updatedAtMs > b.updatedAtMs
  return a.ownerNode > b.ownerNode
}

function sameView (a: InstanceRecord | null, b: InstanceRecord | null): boolean {
  if (a === b) return true
  if (a == null || b == null) return false
  return a.ownerNode === b.ownerNode && a.updatedAtMs === b.updatedAtMs && a.registeredAtMs === b.registeredAtMs && a.status === b.status &&
    a.ownerDead === b.ownerDead
}
