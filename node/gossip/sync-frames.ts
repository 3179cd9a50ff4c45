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
 * Puts the frames of an answer back together, in order: a delta as it
 * comes, a snapshot once its last part is in (a snapshot replaces an
 * owner's sub-map, so it is applied whole). The parts of one snapshot must
 * be consecutive and name the same owner and head.
 */
export class FrameAssembler {
  private first: OwnerSnapshot | undefined
  private parts: Array<OwnerSnapshot['entries']> = []

  constructor (private readonly apply: (part: SyncPart) => void) {}

  take (frame: SyncFrame): void {
    if (this.first != null && !('snapshot' in frame && sameHead(this.first, frame.snapshot))) {
      throw new ProtocolError('frame: the parts of a snapshot are not consecutive')
    }
    if ('delta' in frame) {
      this.apply(frame)
      return
    }
    this.first ??= frame.snapshot
    this.parts.push(frame.snapshot.entries)
    if (frame.more) return
    const entries = this.parts.length === 1 ? this.parts[0] : this.parts.flat()
    const snapshot: OwnerSnapshot = { ...this.first, entries }
    this.first = undefined
    this.parts = []
    this.apply({ snapshot })
  }

  /** Throws when the answer ended inside a snapshot. */
  end (): void {
    if (this.first != null) throw new ProtocolError('frame: the answer ended inside a snapshot')
  }
}

function sameHead (a: OwnerSnapshot, b: OwnerSnapshot): boolean {
  return a.owner === b.owner && a.epoch === b.epoch && a.seq === b.seq
}
