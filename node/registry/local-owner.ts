import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { NotFoundError } from '../errors.js'
import type { InstanceInput } from '../api/validation.js'
import type { Registry, ViewChange } from './registry.js'
import { recordKey, serviceOfKey } from './types.js'
import type { HealthStatus, InstanceRecord, Op } from './types.js'
import type { CheckSpec } from '../health/check-spec.js'
import { loadWorthGossiping } from './load-report.js'
import { intern, internMetadata, internTags } from './intern.js'
import { makeRecord, withOptional } from './record.js'

/** The owner's view of health checking (node/health/manager.ts). */
export interface OwnerHealth {
  /** starts (or keeps) checking a written record; returns the status it should carry (`restored`: persisted by an earlier run) */
  track: (key: string, record: InstanceRecord, restored?: HealthStatus) => HealthStatus
  /** stops checking a record that went away */
  untrack: (key: string) => void
}

/** Collaborators of the owner. */
export interface LocalOwnerComponents {
  readonly registry: Registry
  readonly logger: Logger
  /** wall clock: the times records carry (other nodes compare them) */
  readonly now: () => number
  /**
   * the clock of TTL deadlines, monotonic (node/monotonic.ts): a step of
   * the wall clock must not expire every owned record at once; default `now`
   */
  readonly clock?: () => number
  /** hands each new op to gossip (batched there) */
  readonly publish: (op: Op) => void
  /** called after every change of an owned record, so it is persisted */
  readonly changed: (key: string) => void
  /** called after a heartbeat moved a deadline: persisted lazily (a stale deadline only shortens a restart's grace) */
  readonly renewed?: (key: string) => void
  /** health checking; absent: every record stays PASSING until it expires */
  readonly health?: OwnerHealth
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
  private readonly loadSentAt = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private running = false
  // owned keys whose view record is now another owner's (see noteSuperseded)
  private superseded = new Set<string>()
  private yielding: NodeJS.Immediate | undefined
  private readonly clock: () => number

  constructor (private readonly components: LocalOwnerComponents, private readonly init: LocalOwnerInit) {
    this.clock = components.clock ?? components.now
    const self = components.registry.owner(init.nodeId)
    self.epoch = init.epoch
    // this process never saw earlier epochs: deltas from them are unknown here
    self.floor = { epoch: init.epoch, seq: 0 }
    // from the first moment: a newer copy that comes before start() (while the node joins) counts too
    components.registry.subscribe(changes => { this.noteSuperseded(changes) })
  }

  /** Starts TTL expiry, and giving up records another owner registered since. */
  start (): void {
    if (this.running) return
    this.running = true
    this.schedule()
    this.yieldSoon()
  }

  /** Stops TTL expiry and giving records up; idempotent. */
  stop (): void {
    this.running = false
    clearTimeout(this.timer)
    clearImmediate(this.yielding)
    this.yielding = undefined
  }

  /** Upserts an instance owned by this node; returns the stored record. */
  register (input: InstanceInput, ttlMs: number, check?: CheckSpec | null): InstanceRecord {
    const now = this.components.now()
    const instanceId = input.instanceId !== '' ? input.instanceId : randomUUID()
    const key = recordKey(input.service, instanceId)
    const prev = this.own(key)
    // the fields in makeRecord's order (record.ts): a spread would give each record a hidden class of its own
    const draft = withOptional({
      // strings many records repeat, shared (intern.ts)
      service: intern(input.service),
      instanceId,
      address: input.address,
      port: input.port,
      protocol: intern(input.protocol),
      version: intern(input.version),
      tags: internTags(input.tags),
      metadata: internMetadata(input.metadata),
      weight: input.weight,
      zone: intern(input.zone),
      status: 'PASSING',
      ownerNode: this.init.nodeId,
      // every Register is a new registration: it wins over the copies other owners hold, whatever their clocks say
      registeredAtMs: Math.max(now, (this.components.registry.get(input.service, key)?.registeredAtMs ?? -1) + 1),
      updatedAtMs: nextUpdate(prev, now),
      ttlMs
    }, prev?.load, check ?? undefined, undefined)
    // without health checking, a drained instance stays drained across re-registration
    const record = makeRecord(draft, { status: this.components.health?.track(key, draft) ?? (prev?.status === 'MAINTENANCE' ? 'MAINTENANCE' : 'PASSING') })
    this.write(key, record)
    this.deadlines.set(key, this.clock() + ttlMs)
    return record
  }

  /** Writes a new status of an owned record (from its health); false when not owned or unchanged. */
  setStatus (key: string, status: HealthStatus): boolean {
    const rec = this.own(key)
    if (rec == null || rec.status === status) return false
    this.write(key, makeRecord(rec, { status, updatedAtMs: nextUpdate(rec, this.components.now()) }))
    return true
  }

  /** Notes a load reported on Heartbeat; only a change worth it becomes an op (see load-report.ts). */
  reportLoad (key: string, load: number): void {
    const rec = this.own(key)
    if (rec == null) return
    const now = this.components.now()
    if (!loadWorthGossiping(rec.load ?? 0, load, this.loadSentAt.get(key) ?? -Infinity, now)) return
    this.loadSentAt.set(key, now)
    this.write(key, makeRecord(rec, { load, updatedAtMs: nextUpdate(rec, now) }))
  }

  /** Sets (or, with null, removes) one metadata key of an owned record; false when not owned. */
  annotate (key: string, name: string, value: string | null): boolean {
    const rec = this.own(key)
    if (rec == null || (rec.metadata[name] ?? null) === value) return rec != null
    const metadata = { ...rec.metadata }
    if (value == null) delete metadata[name]
    else metadata[name] = value
    this.write(key, makeRecord(rec, { metadata: internMetadata(metadata), updatedAtMs: nextUpdate(rec, this.components.now()) }))
    return true
  }

  /** The owned record of a key, or null. */
  get (key: string): InstanceRecord | null {
    return this.own(key)
  }

  /** Renews a TTL; NotFoundError when this node does not own the instance. */
  heartbeat (service: string, instanceId: string): number {
    const key = recordKey(service, instanceId)
    const rec = this.own(key)
    if (rec == null) throw new NotFoundError(`${key} is not registered with this node`)
    this.deadlines.set(key, this.clock() + rec.ttlMs)
    this.components.renewed?.(key)
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
   * Re-announces records persisted by an earlier run, in this run's epoch,
   * keeping their deadlines: one that expired while this node was down stays
   * gone (its client could not renew it here; it has registered elsewhere or
   * stopped), so a restart never brings back an instance that had expired.
   * `expiresAtMs` is wall-clock time (see persisted).
   */
  restore (entries: ReadonlyArray<{ record: InstanceRecord, expiresAtMs: number }>): void {
    const now = this.components.now()
    const clock = this.clock()
    let dropped = 0
    for (const { record: r, expiresAtMs } of entries) {
      if (expiresAtMs <= now) {
        dropped++
        continue
      }
      const key = recordKey(r.service, r.instanceId)
      const draft = makeRecord(r, { ownerNode: this.init.nodeId, updatedAtMs: Math.max(now, r.updatedAtMs + 1) })
      this.write(key, makeRecord(draft, { status: this.components.health?.track(key, draft, r.status) ?? r.status }))
      this.deadlines.set(key, clock + (expiresAtMs - now))
    }
    if (entries.length > 0) this.components.logger.info({ records: entries.length - dropped, expired: dropped }, 're-announced persisted records')
  }

  /** Records this node owns. */
  records (): InstanceRecord[] {
    return [...this.components.registry.owner(this.init.nodeId).records()]
  }

  /** Owned records with their deadlines, for the data dir. */
  persistable (): Array<{ record: InstanceRecord, expiresAtMs: number }> {
    const out: Array<{ record: InstanceRecord, expiresAtMs: number }> = []
    for (const key of this.components.registry.owner(this.init.nodeId).entries.keys()) {
      const e = this.persisted(key)
      if (e != null) out.push(e)
    }
    return out
  }

  /** One owned record with its deadline in wall-clock time (the next process's clock starts anew), or null when this node does not own `key`. */
  persisted (key: string): { record: InstanceRecord, expiresAtMs: number } | null {
    const record = this.own(key)
    if (record == null) return null
    const deadline = this.deadlines.get(key)
    return { record, expiresAtMs: deadline == null ? 0 : deadline - this.clock() + this.components.now() }
  }

  /** Expires every owned record past its deadline; returns how many. */
  expire (): number {
    const now = this.clock()
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

  /**
   * A record this node owns whose view record became another owner's: the
   * client registered again elsewhere (it failed over), so this copy gets no
   * more heartbeats here. Kept, it came back into answers, checks and all,
   * once the client deregistered at its new owner, until its TTL ran out
   * here. Given up after the change is delivered (not inside a listener).
   */
  private noteSuperseded (changes: readonly ViewChange[]): void {
    for (const c of changes) if (this.heldElsewhere(c.key, c.after)) this.superseded.add(c.key)
    this.yieldSoon()
  }

  // noted before start() (or while stopped) waits for it
  private yieldSoon (): void {
    if (this.running && this.superseded.size > 0 && this.yielding == null) this.yielding = setImmediate(() => { this.yieldSuperseded() })
  }

  private yieldSuperseded (): void {
    this.yielding = undefined
    const keys = this.superseded
    this.superseded = new Set()
    for (const key of keys) {
      // the key may have changed again since it was noted
      const view = this.components.registry.get(serviceOfKey(key), key)
      if (view == null || !this.heldElsewhere(key, view)) continue
      this.components.logger.info({ key, owner: view.ownerNode }, 'another node holds a newer registration: giving up this copy')
      this.deadlines.delete(key)
      this.write(key, null)
    }
  }

  // the view shows another owner's record of a key this node owns a copy of
  private heldElsewhere (key: string, view: InstanceRecord | null | undefined): boolean {
    return view != null && view.ownerNode !== this.init.nodeId && this.own(key) != null
  }

  private own (key: string): InstanceRecord | null {
    return this.components.registry.owner(this.init.nodeId).entries.get(key)?.record ?? null
  }

  private write (key: string, record: InstanceRecord | null): void {
    if (record == null) {
      this.components.health?.untrack(key)
      this.loadSentAt.delete(key)
    }
    const self = this.components.registry.owner(this.init.nodeId)
    const op: Op = { seq: self.seq + 1, key, record }
    this.components.registry.applyLocal(this.init.nodeId, op)
    this.components.publish(op)
    this.components.changed(key)
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
