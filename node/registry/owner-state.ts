import { compareStamps } from './types.js'
import type { InstanceRecord, Op, OpBatch, OwnerLiveness, Stamp } from './types.js'

/**
 * One key of an owner's sub-map: the record, or a tombstone (record null),
 * with its stamp's fields inline (a stamp object per key was 56 B of heap).
 */
export interface Entry extends Stamp {
  readonly key: string
  readonly record: InstanceRecord | null
  /** local time the tombstone was made, for pruning; 0 for live records */
  readonly deletedAtMs: number
}

/** An entry as it travels: its stamp as an object again. */
export function snapshotEntry (e: Entry): SnapshotEntry {
  return { key: e.key, stamp: { epoch: e.epoch, seq: e.seq }, record: e.record }
}

/** A change of one key in an owner's sub-map. */
export interface KeyChange {
  readonly key: string
  readonly before: InstanceRecord | null
  readonly after: InstanceRecord | null
}

/** One entry as it travels in a snapshot. */
export interface SnapshotEntry {
  readonly key: string
  readonly stamp: Stamp
  readonly record: InstanceRecord | null
}

/**
 * An owner's whole sub-map, tombstones included, as one node holds it: sent
 * to peers too far behind for a delta. Carrying the tombstones and the floor
 * lets the receiver serve deltas (resumed watches) exactly as the sender could.
 */
export interface OwnerSnapshot {
  readonly owner: string
  readonly epoch: number
  readonly seq: number
  readonly floor: Stamp
  readonly entries: readonly SnapshotEntry[]
}

/** The entries of one owner changed in (since, head] of one epoch. */
export interface OwnerDelta {
  readonly owner: string
  readonly epoch: number
  readonly since: number
  readonly head: number
  readonly entries: readonly SnapshotEntry[]
}

/** What applying a batch did. */
export type ApplyResult =
  | { kind: 'applied', changes: KeyChange[] }
  /** nothing new: an older epoch, or ops already applied */
  | { kind: 'stale' }
  /** does not continue our seq (gap, or a new epoch): pull from the sender */
  | { kind: 'gap' }

/**
 * One owner's replicated sub-map at one node: the records the owner wrote,
 * the tombstones of what it deleted, and the (epoch, seq) reached. The map
 * is the compacted op log: the delta since a stamp is every entry stamped
 * after it, as long as no tombstone newer than it was pruned.
 */
export class OwnerState {
  epoch = 0
  seq = 0
  liveness: OwnerLiveness = 'alive'
  readonly entries = new Map<string, Entry>()
  /** deltas from a stamp below this are unknown: tombstones up to it were pruned */
  floor: Stamp = { epoch: 0, seq: 0 }
  private tombstones = 0
  /** the head reached before the last forget(): nothing older may replace what we had */
  private forgotten: Stamp = { epoch: 0, seq: 0 }
  private liveCount = 0

  constructor (readonly owner: string) {}

  /** The head reached before the last forget() (see Registry.dropGoneOwners, which keeps it). */
  get forgottenHead (): Stamp {
    return this.forgotten
  }

  /** A gone owner brought back from a dropped one: nothing up to `forgotten` may replace its (empty) sub-map. */
  static gone (owner: string, forgotten: Stamp): OwnerState {
    const o = new OwnerState(owner)
    o.liveness = 'gone'
    o.forgotten = forgotten
    return o
  }

  /** The stamp reached. */
  get head (): Stamp {
    return { epoch: this.epoch, seq: this.seq }
  }

  /** Number of live records. */
  get size (): number {
    return this.liveCount
  }

  /** Live records of this owner. */
  * records (): IterableIterator<InstanceRecord> {
    for (const e of this.entries.values()) if (e.record != null) yield e.record
  }

  /**
   * Applies a batch if it continues this owner's sequence. A fresh owner
   * (epoch 0) accepts a batch that starts at seq 1 of any epoch.
   */
  applyBatch (batch: OpBatch, nowMs: number): ApplyResult {
    if (batch.ops.length === 0) return { kind: 'stale' }
    if (batch.epoch < this.epoch) return { kind: 'stale' }
    const first = batch.ops[0].seq
    if (batch.epoch > this.epoch) {
      // a new epoch replaces the whole sub-map: only a snapshot (or seq 1 on a
      // sub-map we never had) can do that without leaving old records behind
      if (this.epoch !== 0 || first !== 1 || batch.epoch <= this.forgotten.epoch) return { kind: 'gap' }
      this.epoch = batch.epoch
      // we never saw earlier epochs: a delta from one of them is unknown here
      this.floor = { epoch: batch.epoch, seq: 0 }
    }
    const last = batch.ops[batch.ops.length - 1].seq
    if (last <= this.seq) return { kind: 'stale' }
    if (first > this.seq + 1) return { kind: 'gap' }
    const changes: KeyChange[] = []
    for (const op of batch.ops) {
      if (op.seq <= this.seq) continue
      const change = this.applyOp(op, nowMs)
      if (change != null) changes.push(change)
    }
    return { kind: 'applied', changes }
  }

  /** Applies one op of the current epoch (the owner's own writes come here). */
  applyOp (op: Op, nowMs: number): KeyChange | null {
    this.seq = op.seq
    return this.put(op.key, { epoch: this.epoch, seq: op.seq }, op.record, nowMs)
  }

  /**
   * Replaces the sub-map with a snapshot from a peer. Live keys we had that
   * the snapshot lacks (their tombstones were pruned there, or they belong to
   * an older epoch) become tombstones at the snapshot's head, so a deleted
   * record cannot come back and watchers learn of the delete.
   */
  replaceWith (snap: OwnerSnapshot, nowMs: number, fromOwner = false): KeyChange[] | null {
    if (compareStamps(snap, this.head) <= 0) return null
    // nothing older than the head forgotten; the head itself only from the owner: a peer that
    // has not reaped it yet would hand back the records dropped (of an epoch since replaced)
    const vsForgotten = compareStamps(snap, this.forgotten)
    if (vsForgotten < 0 || (vsForgotten === 0 && !fromOwner)) return null
    const head = { epoch: snap.epoch, seq: snap.seq }
    const changes: KeyChange[] = []
    const incoming = new Map(snap.entries.map(e => [e.key, e]))
    for (const [key, entry] of this.entries) {
      if (incoming.has(key)) continue
      if (entry.record == null) {
        this.entries.delete(key)
        this.tombstones--
      } else {
        const c = this.put(key, head, null, nowMs)
        if (c != null) changes.push(c)
      }
    }
    for (const e of incoming.values()) {
      const had = this.entries.get(e.key)
      // same stamp and same kind: nothing to do (a forgotten owner's tombstone at a live record's stamp is not the same)
      if (had != null && compareStamps(had, e.stamp) === 0 && (had.record == null) === (e.record == null)) continue
      const c = this.put(e.key, e.stamp, e.record, nowMs)
      if (c != null) changes.push(c)
    }
    this.epoch = snap.epoch
    this.seq = snap.seq
    if (compareStamps(snap.floor, this.floor) > 0) this.floor = snap.floor
    return changes
  }

  /**
   * Applies a delta pulled from a peer: the final state of every key changed
   * in (since, head] of one epoch. Null when it does not fit what we hold
   * (another epoch, or we are older than `since`): pull a snapshot instead.
   */
  applyDelta (delta: OwnerDelta, nowMs: number): KeyChange[] | null {
    if (delta.epoch !== this.epoch || this.seq < delta.since) return null
    if (delta.head <= this.seq) return []
    const changes: KeyChange[] = []
    for (const e of delta.entries) {
      if (e.stamp.epoch !== this.epoch || e.stamp.seq <= this.seq) continue
      const c = this.put(e.key, e.stamp, e.record, nowMs)
      if (c != null) changes.push(c)
    }
    this.seq = delta.head
    return changes
  }

  /**
   * Entries changed after `since`, oldest first, or null when they are no
   * longer known (pruned tombstones, or another epoch whose history we lack).
   */
  deltaSince (since: Stamp): Entry[] | null {
    if (compareStamps(since, this.floor) < 0) return null
    if (compareStamps(since, this.head) > 0) return null
    const out: Entry[] = []
    for (const e of this.entries.values()) if (compareStamps(e, since) > 0) out.push(e)
    out.sort(compareStamps)
    return out
  }

  /** The owner's whole current sub-map. */
  snapshot (): OwnerSnapshot {
    const entries: SnapshotEntry[] = []
    for (const e of this.entries.values()) entries.push(snapshotEntry(e))
    return { owner: this.owner, epoch: this.epoch, seq: this.seq, floor: this.floor, entries }
  }

  /** Drops every live record as tombstones (an owner reaped or gone); returns the changes. */
  dropAll (nowMs: number): KeyChange[] {
    const changes: KeyChange[] = []
    for (const [key, e] of this.entries) {
      if (e.record == null) continue
      const c = this.put(key, e, null, nowMs)
      if (c != null) changes.push(c)
    }
    return changes
  }

  /**
   * Forgets the owner (reaped or gone): live records become tombstones and
   * the head drops to zero, so whatever the owner sends next (even in the
   * same epoch, after a false verdict) is pulled again as a snapshot.
   */
  forget (nowMs: number): KeyChange[] {
    const changes = this.dropAll(nowMs)
    if (compareStamps(this.head, this.forgotten) > 0) this.forgotten = this.head
    this.epoch = 0
    this.seq = 0
    return changes
  }

  /** Prunes tombstones older than `retentionMs`, and the oldest past `maxCount`. */
  pruneTombstones (nowMs: number, retentionMs: number, maxCount: number): number {
    if (this.tombstones === 0) return 0
    const dead = [...this.entries.values()].filter(e => e.record == null)
    dead.sort((a, b) => a.deletedAtMs - b.deletedAtMs)
    let pruned = 0
    for (const e of dead) {
      const over = dead.length - pruned > maxCount
      if (!over && nowMs - e.deletedAtMs < retentionMs) break
      this.entries.delete(e.key)
      if (compareStamps(e, this.floor) > 0) this.floor = { epoch: e.epoch, seq: e.seq }
      pruned++
    }
    this.tombstones -= pruned
    return pruned
  }

  private put (key: string, stamp: Stamp, record: InstanceRecord | null, nowMs: number): KeyChange | null {
    const prev = this.entries.get(key)
    const before = prev?.record ?? null
    if (prev != null && prev.record == null) this.tombstones--
    if (before != null) this.liveCount--
    if (record == null) {
      this.tombstones++
      this.entries.set(key, { key, epoch: stamp.epoch, seq: stamp.seq, record: null, deletedAtMs: nowMs })
    } else {
      this.liveCount++
      this.entries.set(key, { key, epoch: stamp.epoch, seq: stamp.seq, record, deletedAtMs: 0 })
    }
    if (before == null && record == null) return null
    return { key, before, after: record }
  }
}
