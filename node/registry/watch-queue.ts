/**
 * A watcher's pending events, at most one per key, in two parts sent in
 * order: the initial part (what a watch opens with: RESET, the snapshot or
 * catch-up, SYNCED), unbounded, since it holds at most one event per key
 * of the view however large the view is; then the live part, bounded, in
 * the order of the latest change: a newer event for a pending live key
 * replaces it and moves to the back, so the live part stays ordered by
 * resume token (once an event is sent, every change before its token has
 * been sent too).
 *
 * A live change of a key still waiting in the initial part replaces it in
 * place (`pushInitial` again): moved behind SYNCED, the key would be missing
 * from the set the watcher holds at SYNCED although it existed all along.
 */
export class CoalescingQueue<E> {
  private readonly initial = new Map<string, E>()
  private readonly live = new Map<string, E>()

  constructor (private readonly max: number) {}

  /** Queues an event of the initial part, or replaces the one of `key` where it stands; the bound does not apply. */
  pushInitial (key: string, event: E): void {
    // Map.set on a present key keeps its place in the iteration order
    this.initial.set(key, event)
  }

  /** The event of `key` waiting in the initial part, if any. */
  initialEvent (key: string): E | undefined {
    return this.initial.get(key)
  }

  /** Queues a live event for `key`; false when the live part is full (the caller drops the watcher). */
  push (key: string, event: E): boolean {
    if (this.live.has(key)) {
      this.live.delete(key)
    } else if (this.live.size >= this.max) {
      return false
    }
    this.live.set(key, event)
    return true
  }

  /** Takes the oldest event (the initial part first), or undefined when empty. */
  shift (): E | undefined {
    return takeFirst(this.initial) ?? takeFirst(this.live)
  }

  /** Number of pending events, both parts. */
  get size (): number {
    return this.initial.size + this.live.size
  }

  /** Drops everything pending. */
  clear (): void {
    this.initial.clear()
    this.live.clear()
  }
}

function takeFirst<E> (m: Map<string, E>): E | undefined {
  for (const [key, event] of m) {
    m.delete(key)
    return event
  }
  return undefined
}
