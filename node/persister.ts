import type { Logger } from 'pino'
import type { DataDir, PersistedRecord } from './data-dir.js'

/**
 * Writes the owned records to the data dir after changes, at most one write
 * in flight, so a burst of registrations costs a few writes, not one per
 * call. Changes are written within the debounce; renewed deadlines (every
 * heartbeat) only within `lazyMs`, or with the next change.
 */
export class Persister {
  private timer: NodeJS.Timeout | undefined
  private dueAt = Infinity
  private writing: Promise<void> | undefined
  private dirty = false

  constructor (
    private readonly dir: DataDir,
    private readonly records: () => readonly PersistedRecord[],
    private readonly log: Logger,
    private readonly debounceMs: number
  ) {}

  /** Notes a change; a write follows within the debounce period. */
  schedule (): void {
    this.arm(this.debounceMs)
  }

  /** Notes renewed deadlines: written with the next change, or within `lazyMs`. */
  scheduleLazy (lazyMs: number): void {
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

  // keeps the earliest due time: a change must not wait behind a lazy renewal
  private arm (delayMs: number): void {
    this.dirty = true
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
    this.dirty = false
    this.writing = this.dir.saveRecords(this.records()).catch(err => { this.log.error({ err }, 'persisting records failed') })
    await this.writing
    this.writing = undefined
    if (this.dirty) this.schedule()
  }
}
