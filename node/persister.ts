import type { Logger } from 'pino'
import { StorageError } from './errors.js'
import type { JournalChange, PersistedRecord, RecordStore } from './record-store.js'

/** Where the persister reads what to write. */
export interface PersistSource {
  /** an owned record with its deadline, or null when the key is no longer owned */
  entry: (key: string) => PersistedRecord | null
  /** every owned record, for a compaction */
  all: () => PersistedRecord[]
}

/** After a failed write, the next try comes this much later (the disk may be full). */
const RETRY_MS = 1000

/**
 * Writes the owned records to the data dir after changes, one write at a
 * time, so a burst of registrations costs a few appends, not one per call.
 * Changes are written within the debounce; renewed deadlines (every
 * heartbeat) only within `lazyMs`, or with the next change. Each write
 * appends the keys noted since the last one; the store decides when it is
 * a full rewrite instead (record-store.ts). A failed write keeps its keys
 * and is tried again.
 */
export class Persister {
  private timer: NodeJS.Timeout | undefined
  private dueAt = Infinity
  private writing: Promise<boolean> | undefined
  private changed = new Set<string>()
  private renewed = new Set<string>()
  // every note is numbered: flush() waits until a write covered the notes made before it was called
  private noted = 0
  private written = 0
  private stopped = false

  constructor (
    private readonly store: RecordStore,
    private readonly source: PersistSource,
    private readonly log: Logger,
    private readonly debounceMs: number
  ) {}

  /** Notes a change of `key`; a write follows within the debounce period. */
  schedule (key: string): void {
    this.changed.add(key)
    this.noted++
    this.arm(this.debounceMs)
  }

  /** Notes a renewed deadline of `key`: written with the next change, or within `lazyMs`. */
  scheduleLazy (key: string, lazyMs: number): void {
    this.renewed.add(key)
    this.noted++
    this.arm(lazyMs)
  }

  /** Resolves once everything noted before the call is on disk; rejects with StorageError when a write of it failed. */
  async flush (): Promise<void> {
    const target = this.noted
    while (this.written < target) {
      if (this.writing != null) {
        await this.writing
        continue
      }
      if (!await this.write()) throw new StorageError('the data dir could not be written')
    }
  }

  /** Writes nothing more by itself (flush() still writes): the node is stopping. Idempotent. */
  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
  }

  // keeps the earliest due time: a change must not wait behind a lazy renewal
  private arm (delayMs: number): void {
    if (this.stopped || this.writing != null) return
    // monotonic: on the wall clock, a step forward put a change behind a pending lazy renewal
    const due = performance.now() + delayMs
    if (this.timer != null && this.dueAt <= due) return
    clearTimeout(this.timer)
    this.dueAt = due
    this.timer = setTimeout(() => { void this.write() }, delayMs)
  }

  // never two at once: flush() and the timer both come through here
  private async write (): Promise<boolean> {
    if (this.writing != null) return await this.writing
    clearTimeout(this.timer)
    this.timer = undefined
    this.dueAt = Infinity
    const upTo = this.noted
    const changed = this.changed
    const renewed = this.renewed
    this.changed = new Set()
    this.renewed = new Set()
    this.writing = this.save(changed, renewed)
    const ok = await this.writing
    this.writing = undefined
    if (ok) {
      this.written = upTo
    } else {
      // the keys go back; the store rewrites everything on the next try
      for (const k of changed) this.changed.add(k)
      for (const k of renewed) this.renewed.add(k)
    }
    if (this.changed.size > 0 || this.renewed.size > 0) this.arm(ok ? this.debounceMs : RETRY_MS)
    return ok
  }

  private async save (changed: Set<string>, renewed: Set<string>): Promise<boolean> {
    try {
      if (this.store.needsCompaction) {
        await this.store.compact(this.source.all())
        return true
      }
      const lines: JournalChange[] = []
      for (const key of changed) lines.push({ key, entry: this.source.entry(key) })
      for (const key of renewed) {
        if (changed.has(key)) continue
        // a key no longer owned had its removal noted as a change
        const e = this.source.entry(key)
        if (e != null) lines.push({ key, expiresAtMs: e.expiresAtMs })
      }
      await this.store.append(lines)
      return true
    } catch (err) {
      // what reached the disk is unknown: the next write rewrites everything
      this.store.invalidate()
      this.log.error({ err }, 'persisting records failed')
      return false
    }
  }
}
