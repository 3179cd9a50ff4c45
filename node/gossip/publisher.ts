import type { Logger } from 'pino'
import type { Op, OpBatch } from '../registry/types.js'

/** Options of the publisher. */
export interface PublisherInit {
  readonly owner: string
  readonly epoch: number
  /** after a publish, how long further ops are gathered into the next message */
  readonly batchMs: number
  /** most ops in one message */
  readonly maxOps: number
}

/**
 * Publishes the owner's ops in batches: signing and checking each gossip
 * message cost most of gossip's CPU, so under load one message carries a
 * few ms of changes. The window opens with a publish, not with an op: an op
 * that finds no publish in the last `batchMs` goes out on the next tick
 * (with whatever else that tick wrote), so a quiet owner adds no delay.
 */
export class Publisher {
  private pending: Op[] = []
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined
  private lastPublishAt = -Infinity

  constructor (
    private readonly send: (batch: OpBatch) => Promise<void>,
    private readonly log: Logger,
    private readonly init: PublisherInit
  ) {}

  /** Queues one op; it goes out on the next tick, or within `batchMs` under load. */
  enqueue (op: Op): void {
    this.pending.push(op)
    if (this.timer != null) return
    const wait = this.lastPublishAt + this.init.batchMs - performance.now()
    this.timer = wait <= 0 ? setImmediate(() => { this.flush() }) : setTimeout(() => { this.flush() }, wait)
  }

  /** Publishes everything queued now. */
  flush (): void {
    this.cancel()
    const ops = this.pending
    if (ops.length === 0) return
    this.pending = []
    this.lastPublishAt = performance.now()
    for (let i = 0; i < ops.length; i += this.init.maxOps) {
      const batch: OpBatch = { owner: this.init.owner, epoch: this.init.epoch, ops: ops.slice(i, i + this.init.maxOps) }
      // a lost publish is repaired by anti-entropy; it must not stop the next one
      this.send(batch).catch(err => { this.log.debug({ err }, 'publish failed; anti-entropy will repair') })
    }
  }

  /** Flushes what is queued and drops the timer. */
  stop (): void {
    this.flush()
    this.cancel()
  }

  private cancel (): void {
    if (this.timer == null) return
    clearTimeout(this.timer as NodeJS.Timeout)
    clearImmediate(this.timer as NodeJS.Immediate)
    this.timer = undefined
  }
}
