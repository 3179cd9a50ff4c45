import type { Member } from './member-table.js'

/** A membership update in flight, with who accused (for SUSPECT). */
export interface Update {
  readonly member: Member
  /** the accuser, for SUSPECT updates: distinct accusers confirm a suspicion */
  readonly from?: string
}

interface Queued {
  readonly update: Update
  transmits: number
  readonly order: number
}

/**
 * Updates waiting to ride on probe messages (memberlist's TransmitLimitedQueue):
 * each is sent `retransmitMult × ceil(log10(n + 1))` times, fewest-sent and
 * newest first; a newer update about the same member replaces the old one.
 */
export class BroadcastQueue {
  private readonly queue = new Map<string, Queued>()
  private order = 0

  constructor (private readonly retransmitMult: number) {}

  /** How many times each update is sent in a cluster of `n`. */
  static limit (retransmitMult: number, n: number): number {
    return retransmitMult * Math.ceil(Math.log10(n + 1))
  }

  /** Queues an update, replacing any older one about the same member. */
  push (update: Update): void {
    this.queue.set(update.member.id, { update, transmits: 0, order: this.order++ })
  }

  /** Takes up to `max` updates for one message and counts the transmission. */
  take (max: number, n: number): Update[] {
    if (this.queue.size === 0) return []
    const limit = BroadcastQueue.limit(this.retransmitMult, n)
    const ranked = [...this.queue.values()].sort((a, b) => a.transmits - b.transmits || b.order - a.order).slice(0, max)
    for (const q of ranked) {
      q.transmits++
      if (q.transmits >= limit) this.queue.delete(q.update.member.id)
    }
    return ranked.map(q => q.update)
  }

  /** Updates still queued. */
  get size (): number {
    return this.queue.size
  }
}
