/**
 * A watcher's pending events: at most one per key, in the order of their
 * latest change. A newer event for a pending key replaces it and moves to
 * the back, so the queue stays ordered by resume token: once an event is
 * sent, every change before its token has been sent too.
 */
export class CoalescingQueue<E> {
  private readonly pending = new Map<string, E>()

  constructor (private readonly max: number) {}

  /**
   * Queues `event` for `key`; false when the queue is full (the caller drops
   * the watcher). `force` skips the bound: a snapshot holds at most one event
   * per key of the view, however large the view is.
   */
  push (key: string, event: E, force = false): boolean {
    if (this.pending.has(key)) {
      this.pending.delete(key)
    } else if (!force && this.pending.size >= this.max) {
      return false
    }
    this.pending.set(key, event)
    return true
  }

  /** Takes the oldest event, or undefined when empty. */
  shift (): E | undefined {
    for (const [key, event] of this.pending) {
      this.pending.delete(key)
      return event
    }
    return undefined
  }

  /** Number of pending events. */
  get size (): number {
    return this.pending.size
  }

  /** Drops everything pending. */
  clear (): void {
    this.pending.clear()
  }
}
