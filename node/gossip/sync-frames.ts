import { ProtocolError } from '../errors.js'
import type { OwnerDelta, OwnerSnapshot } from '../registry/owner-state.js'
import { encodeEntries } from './codec.js'
import type { SyncFrame } from './codec.js'

/** One owner's part of a sync answer. */
export type SyncPart = { readonly delta: OwnerDelta } | { readonly snapshot: OwnerSnapshot }

/** Entries of a snapshot per frame: the asker checks one part while the next is built and sent. */
export const SNAPSHOT_PART = 5000

/** The frames of an answer, ready for JSON (parsed back by parseSyncFrame): deltas whole, snapshots in parts of `partSize` entries. */
export async function * framesOf (answer: Iterable<SyncPart> | AsyncIterable<SyncPart>, partSize = SNAPSHOT_PART): AsyncGenerator<unknown> {
  for await (const part of answer) {
    if ('delta' in part) {
      const { entries, ...head } = part.delta
      yield { delta: { ...head, entries: encodeEntries(head.owner, entries) } }
      continue
    }
    const { entries, ...head } = part.snapshot
    for (let i = 0; i === 0 || i < entries.length; i += partSize) {
      yield { snapshot: { ...head, entries: encodeEntries(head.owner, entries.slice(i, i + partSize)) }, more: i + partSize < entries.length }
    }
  }
}

/**
 * Entries one answer may hold, all owners together: 100,000 instances and
 * each owner's tombstones (at most maxTombstonesPerOwner, 100,000) leave
 * room for about nineteen owners at their limit. A tombstone is some 20
 * bytes in a frame and 130 in the heap: within the byte cap alone, one
 * answer of made-up tombstones held 2.8 GB.
 */
export const MAX_SYNC_ENTRIES = 2_000_000

/**
 * Puts the frames of an answer back together, in order: deltas as they
 * come, a snapshot from its parts (consecutive, naming the same owner and
 * head). Nothing is handed out before the whole answer is in (`end`): the
 * caller applies an answer whole or not at all, so a peer's garbage late
 * in an answer changes nothing.
 */
export class FrameAssembler {
  private readonly done: SyncPart[] = []
  private first: OwnerSnapshot | undefined
  private parts: Array<OwnerSnapshot['entries']> = []
  private entries = 0

  constructor (private readonly maxEntries = MAX_SYNC_ENTRIES) {}

  take (frame: SyncFrame): void {
    if (this.first != null && !('snapshot' in frame && sameHead(this.first, frame.snapshot))) {
      throw new ProtocolError('frame: the parts of a snapshot are not consecutive')
    }
    this.entries += 'delta' in frame ? frame.delta.entries.length : frame.snapshot.entries.length
    if (this.entries > this.maxEntries) throw new ProtocolError(`frame: an answer of more than ${this.maxEntries} entries`)
    if ('delta' in frame) {
      this.done.push(frame)
      return
    }
    this.first ??= frame.snapshot
    this.parts.push(frame.snapshot.entries)
    if (frame.more) return
    const entries = this.parts.length === 1 ? this.parts[0] : this.parts.flat()
    this.done.push({ snapshot: { ...this.first, entries } })
    this.first = undefined
    this.parts = []
  }

  /** The owners' parts of the whole answer; throws when it ended inside a snapshot. */
  end (): SyncPart[] {
    if (this.first != null) throw new ProtocolError('frame: the answer ended inside a snapshot')
    return this.done
  }
}

function sameHead (a: OwnerSnapshot, b: OwnerSnapshot): boolean {
  return a.owner === b.owner && a.epoch === b.epoch && a.seq === b.seq
}
