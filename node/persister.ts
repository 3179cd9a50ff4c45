import type { Logger } from 'pino'
import type { JournalChange, PersistedRecord, RecordStore } from './record-store.js'

/** Where the persister reads what to write. */
export interface PersistSource {
  /** an owned record with its deadline, or null when the key is no longer owned */
  entry: (key: string) => PersistedRecord | null
  /** every owned record, for a compaction */
  all: () => PersistedRecord[]
}

/**
 * Writes the owned records to the data dir after changes, at most one write
 * in flight, so a burst of registrations costs a few appends, not one per
 * call. Changes are written within the debounce; renewed deadlines (every
 * heartbeat) only within `lazyMs`, or with the next change. Each write
 * appends the keys noted since the last one; the store decides when it is
 * a full rewrite instead (record-store.ts).
 */
export class Persister {
  private timer: NodeJS.Timeout | undefined
  private dueAt = Infinity
  private writing: Promise<void> | undefined
  private changed = new Set<string>()
  private renewed = new Set<string>()

  constructor (
    private readonly store: RecordStore,
    private readonly source: PersistSource,
    private readonly log: Logger,
    private readonly debounceMs: number
  ) {}

  /** Notes a change of `key`; a write follows within the debounce period. */
  schedule (key: string): void {
    this.changed.add(key)
    this.arm(this.debounceMs)
  }

  /** Notes a renewed deadline of `key`: written with the next change, or within `lazyMs`. */
  scheduleLazy (key: string, lazyMs: number): void {
    this.renewed.add(key)
    this.arm(lazyMs)
  }

  /** Writes now if anything changed, and waits until it is on disk. */
  async flush (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    this.dueAt = Infinity
    await this.writing
    if (this.dirty) await this.write()
  }

  private get dirty (): boolean {
    return this.changed.size > 0 || this.renewed.size > 0
  }

  // keeps the earliest due time: a change must not wait behind a lazy renewal
  private arm (delayMs: number): void {
    if (this.writing != null) return
    const due = Date.now() + delayMs
    if (this.timer != null && this.dueAt <= due) return
    clearTimeout(this.timer)
    this.dueAt = due
    this.timer = setTimeout(() => { void this.write() }, delayMs)
  }

  private async write (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    this.dueAt = Infinity
    const changed = this.changed
    const renewed = this.renewed
    this.changed = new Set()
    this.renewed = new Set()
    this.writing = this.save(changed, renewed)
    await this.writing
    this.writing = undefined
    if (this.dirty) this.arm(this.debounceMs)
  }

  private async save (changed: Set<string>, renewed: Set<string>): Promise<void> {
    try {
      if (this.store.needsCompaction) {
        await this.store.compact(this.source.all())
        return
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
    } catch (err) {
      // what reached the disk is unknown: the next write rewrites everything
      this.store.invalidate()
      this.log.error({ err }, 'persisting records failed')
    }
  }
}
