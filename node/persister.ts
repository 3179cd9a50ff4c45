import type { Logger } from 'pino'
import type { DataDir } from './data-dir.js'
import type { InstanceRecord } from './registry/types.js'

/**
 * Writes the owned records to the data dir after changes, at most one write
 * in flight and one per debounce period, so a burst of registrations costs
 * a few writes, not one per call.
 */
export class Persister {
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> | undefined
  private dirty = false

  constructor (
    private readonly dir: DataDir,
    private readonly records: () => readonly InstanceRecord[],
    private readonly log: Logger,
    private readonly debounceMs: number
  ) {}

  /** Notes a change; a write follows within the debounce period. */
  schedule (): void {
    this.dirty = true
    if (this.timer == null && this.writing == null) this.timer = setTimeout(() => { void this.write() }, this.debounceMs)
  }

  /** Writes now if anything changed, and waits for it. */
  async flush (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.writing
    if (this.dirty) await this.write()
  }

  private async write (): Promise<void> {
    this.timer = undefined
    this.dirty = false
    this.writing = this.dir.saveRecords(this.records()).catch(err => { this.log.error({ err }, 'persisting records failed') })
    await this.writing
    this.writing = undefined
    if (this.dirty) this.schedule()
  }
}
