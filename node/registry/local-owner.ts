import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { NotFoundError } from '../errors.js'
import type { InstanceInput } from '../api/validation.js'
import type { Registry } from './registry.js'
import { recordKey } from './types.js'
import type { InstanceRecord, Op } from './types.js'

/** Collaborators of the owner. */
export interface LocalOwnerComponents {
  readonly registry: Registry
  readonly logger: Logger
  readonly now: () => number
  /** hands each new op to gossip (batched there) */
  readonly publish: (op: Op) => void
  /** called after every change of an owned record, so it is persisted */
  readonly changed: () => void
}

/** Options of the owner. */
export interface LocalOwnerInit {
  readonly nodeId: string
  /** this node's incarnation at start: the epoch of every op it writes */
  readonly epoch: number
  /** how often TTLs are checked; bounds how late an expiry can be */
  readonly sweepIntervalMs: number
}

/**
 * The write path of the records this node owns: register, heartbeat,
 * deregister and TTL expiry. Only the owner writes its records, so its part
 * of the registry has a single writer and needs no conflict resolution.
 * Heartbeats renew a deadline here and are never gossiped.
 */
export class LocalOwner {
  private readonly deadlines = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private running = false

  constructor (private readonly components: LocalOwnerComponents, private readonly init: LocalOwnerInit) {
    const self = components.registry.owner(init.nodeId)
    self.epoch = init.epoch
    // this process never saw earlier epochs: deltas from them are unknown here
    self.floor = { epoch: init.epoch, seq: 0 }
  }

  /** Starts TTL expiry. */
  start (): void {
    if (this.running) return
    this.running = true
    this.schedule()
  }

  /** Stops TTL expiry; idempotent. */
  stop (): void {
    this.running = false
    clearTimeout(this.timer)
  }

  /** Upserts an instance owned by this node; returns the stored record. */
  register (input: InstanceInput, ttlMs: number): InstanceRecord {
    const now = this.components.now()
    const instanceId = input.instanceId !== '' ? input.instanceId : randomUUID()
    const key = recordKey(input.service, instanceId)
    const prev = this.own(key)
    const record: InstanceRecord = {
      ...input,
      instanceId,
      status: prev?.status === 'MAINTENANCE' ? 'MAINTENANCE' : 'PASSING',
      ownerNode: this.init.nodeId,
      // every Register is a new registration: it wins over copies held by other owners
      registeredAtMs: now,
      updatedAtMs: nextUpdate(prev, now),
      ttlMs
    }
    this.write(key, record)
    this.deadlines.set(key, now + ttlMs)
    return record
  }

  /** Renews a TTL; NotFoundError when this node does not own the instance. */
  heartbeat (service: string, instanceId: string): number {
    const key = recordKey(service, instanceId)
    const rec = this.own(key)
    if (rec == null) throw new NotFoundError(`${key} is not registered with this node`)
    this.deadlines.set(key, this.components.now() + rec.ttlMs)
    return rec.ttlMs
  }

  /** Removes an owned instance; false when there was none (idempotent). */
  deregister (service: string, instanceId: string): boolean {
    const key = recordKey(service, instanceId)
    if (this.own(key) == null) return false
    this.deadlines.delete(key)
    this.write(key, null)
    return true
  }

  /**
   * Re-announces records persisted by an earlier run, in this run's epoch.
   * Their clients get one TTL from now to heartbeat, then they expire.
   */
  restore (records: readonly InstanceRecord[]): void {
    const now = this.components.now()
    for (const r of records) {
      const key = recordKey(r.service, r.instanceId)
      this.write(key, { ...r, ownerNode: this.init.nodeId, updatedAtMs: Math.max(now, r.updatedAtMs + 1) })
      this.deadlines.set(key, now + r.ttlMs)
    }
    if (records.length > 0) this.components.logger.info({ records: records.length }, 're-announced persisted records')
  }

  /** Records this node owns. */
  records (): InstanceRecord[] {
    return [...this.components.registry.owner(this.init.nodeId).records()]
  }

  /** Expires every owned record past its deadline; returns how many. */
  expire (): number {
    const now = this.components.now()
    let n = 0
    for (const [key, deadline] of this.deadlines) {
      if (deadline > now) continue
      this.deadlines.delete(key)
      if (this.own(key) != null) {
        this.write(key, null)
        n++
      }
    }
    if (n > 0) this.components.logger.debug({ expired: n }, 'expired instances')
    return n
  }

  private own (key: string): InstanceRecord | null {
    return this.components.registry.owner(this.init.nodeId).entries.get(key)?.record ?? null
  }

  private write (key: string, record: InstanceRecord | null): void {
    const self = this.components.registry.owner(this.init.nodeId)
    const op: Op = { seq: self.seq + 1, key, record }
    this.components.registry.applyLocal(this.init.nodeId, op)
    this.components.publish(op)
    this.components.changed()
  }

  private schedule (): void {
    this.timer = setTimeout(() => {
      if (!this.running) return
      try {
        this.expire()
      } catch (err) {
        this.components.logger.error({ err }, 'ttl sweep failed')
      }
      this.schedule()
    }, this.init.sweepIntervalMs)
    this.timer.unref()
  }
}

// update times rise strictly per record: views and digests compare them
function nextUpdate (prev: InstanceRecord | null, now: number): number {
  return prev == null ? now : Math.max(now, prev.updatedAtMs + 1)
}
