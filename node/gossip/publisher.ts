import type { Logger } from 'pino'
import type { Op, OpBatch } from '../registry/types.js'

/** Options of the publisher. */
export interface PublisherInit {
  readonly owner: string
  readonly epoch: number
  /** how long ops are gathered into one message */
  readonly batchMs: number
  /** most ops in one message */
  readonly maxOps: number
}

/**
 * Gathers the owner's ops for `batchMs` and publishes them as one message:
 * signing and checking each gossip message cost most of gossip's CPU, so
 * one message per few ms of changes, not one per op.
 */
export class Publisher {
  private pending: Op[] = []
  private timer: NodeJS.Timeout | undefined

  constructor (
    private readonly send: (batch: OpBatch) => Promise<void>,
    private readonly log: Logger,
    private readonly init: PublisherInit
  ) {}

  /** Queues one op; it goes out within `batchMs`. */
  enqueue (op: Op): void {
    this.pending.push(op)
    if (this.timer == null) this.timer = setTimeout(() => { this.flush() }, this.init.batchMs)
  }

  /** Publishes everything queued now. */
  flush (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const ops = this.pending
    this.pending = []
    for (let i = 0; i < ops.length; i += this.init.maxOps) {
      const batch: OpBatch = { owner: this.init.owner, epoch: this.init.epoch, ops: ops.slice(i, i + this.init.maxOps) }
      // a lost publish is repaired by anti-entropy; it must not stop the next one
      this.send(batch).catch(err => { this.log.debug({ err }, 'publish failed; anti-entropy will repair') })
    }
  }

  /** Drops the timer; queued ops are flushed first. */
  stop (): void {
    this.flush()
  }
}
