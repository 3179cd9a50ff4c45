import { PeerUnreachableError } from '../../node/errors.js'
import type { Clock, Random } from '../../node/membership/clock.js'
import type { Member } from '../../node/membership/member-table.js'
import type { SwimTransport, Target } from '../../node/membership/swim.js'
import type { SwimAnswer, SwimMessage } from '../../node/membership/swim-codec.js'
import type { ProcessClock } from './process-clock.js'

/** How the simulated wire misbehaves. Every choice comes from the network's seeded Random. */
export interface NetworkOptions {
  /** one-way latency is uniform in [minDelayMs, maxDelayMs] */
  readonly minDelayMs: number
  readonly maxDelayMs: number
  /** chance that one message (a request, a reply or a gossip copy) is lost */
  readonly dropRate: number
  /** chance that a request is delivered twice (both copies are handled) */
  readonly duplicateRate: number
  /** chance that a message gets up to `reorderMaxMs` extra latency, so later ones overtake it */
  readonly reorderRate: number
  readonly reorderMaxMs: number
}

/** A LAN that loses nothing: 0.2–2 ms one way. */
export const CLEAN_NETWORK: NetworkOptions = { minDelayMs: 0.2, maxDelayMs: 2, dropRate: 0, duplicateRate: 0, reorderRate: 0, reorderMaxMs: 0 }

/** A simulated process as the network sees it: an address, a clock view and its handlers. */
export interface Endpoint {
  readonly id: string
  readonly address: string
  /** everything the network does on the process's behalf is scheduled here (so a pause holds it) */
  readonly clock: ProcessClock
  /** answers one request (Swim.handle) */
  readonly handle: (fromId: string, raw: unknown) => Promise<unknown>
  /** takes members announced over gossip (Swim.mergeTable) */
  readonly merge: (fromId: string, members: Member[]) => void
}

/** What the network did, for summaries and for checking that faults were really injected. */
export interface NetworkStats {
  requests: number
  dropped: number
  duplicated: number
  refused: number
  timedOut: number
  partitioned: number
  gossip: number
}

/**
 * An in-memory network for SWIM processes. A request reaches whatever
 * listens at the target address after a seeded delay, unless it is lost
 * (the caller times out on its own clock), cut by a partition (timed out
 * too: a partition is silent), or the process there has crashed (refused,
 * as a live host answers for a dead process). Messages are copied through
 * JSON, as on a wire.
 */
export class MemoryNetwork {
  private options: NetworkOptions
  private readonly endpoints = new Map<string, Endpoint>()
  private groupOf = new Map<string, number>()
  /** unexpected failures (a handler that threw): each one fails the run */
  readonly errors: string[] = []
  readonly stats: NetworkStats = { requests: 0, dropped: 0, duplicated: 0, refused: 0, timedOut: 0, partitioned: 0, gossip: 0 }

  constructor (private readonly clock: Clock, private readonly random: Random, options: Partial<NetworkOptions> = {}) {
    this.options = { ...CLEAN_NETWORK, ...options }
  }

  /** Changes how the wire misbehaves from now on. */
  configure (options: Partial<NetworkOptions>): void {
    this.options = { ...this.options, ...options }
  }

  /** Listens at `ep.address`, replacing any earlier process there (a restart on the same port). */
  attach (ep: Endpoint): void {
    this.endpoints.set(ep.address, ep)
  }

  /** The process listening at `address`. */
  at (address: string): Endpoint | undefined {
    return this.endpoints.get(address)
  }

  /** The SwimTransport of one process: its requests leave from it and their replies come back to it. */
  transportFor (from: Endpoint): SwimTransport {
    return { request: async (to, msg, timeoutMs) => await this.request(from, to, msg, timeoutMs) }
  }

  /** Cuts the network into groups: messages between groups are lost. Unlisted members form one more group. */
  partition (groups: ReadonlyArray<readonly string[]>): void {
    this.groupOf = new Map()
    groups.forEach((g, i) => { for (const id of g) this.groupOf.set(id, i) })
  }

  /** Ends any partition. */
  heal (): void {
    this.groupOf = new Map()
  }

  /** True when a message from `a` to `b` is lost to the partition. */
  cut (a: string, b: string): boolean {
    return (this.groupOf.get(a) ?? -1) !== (this.groupOf.get(b) ?? -1)
  }

  /** Freezes the process at `address` for `ms` (SIGSTOP, then SIGCONT). */
  pause (address: string, ms: number): void {
    const ep = this.endpoints.get(address)
    if (ep == null) return
    ep.clock.pause()
    this.clock.setTimeout(() => { ep.clock.resume() }, ms)
  }

  /** Kills the process at `address`: from now on requests to it are refused. */
  crash (address: string): void {
    this.endpoints.get(address)?.clock.crash()
  }

  /** Announces members to every other process (the gossipsub channel): lossy, partitioned, best effort. */
  gossip (from: Endpoint, members: readonly Member[]): void {
    const wire = JSON.stringify(members)
    for (const ep of this.endpoints.values()) {
      if (ep === from || ep.clock.state === 'crashed') continue
      if (this.lost()) continue
      this.stats.gossip++
      // the partition is checked on arrival: a link cut while the message is in flight loses it
      ep.clock.setTimeout(() => { if (!this.cut(from.id, ep.id)) ep.merge(from.id, JSON.parse(wire) as Member[]) }, this.delay())
    }
  }

  /** One request from `from`, settled on `from`'s clock: an answer, a refusal or a timeout. */
  private async request (from: Endpoint, to: Target, msg: SwimMessage, timeoutMs: number): Promise<SwimAnswer> {
    this.stats.requests++
    const wire = JSON.stringify(msg)
    return await new Promise<SwimAnswer>((resolve, reject) => {
      let settled = false
      const settle = (ok: boolean, value: unknown): void => {
        if (settled) return
        settled = true
        timer.cancel()
        if (ok) resolve(value as SwimAnswer)
        else reject(value)
      }
      const timer = from.clock.setTimeout(() => {
        this.stats.timedOut++
        settle(false, new PeerUnreachableError(`${to.address}: no answer in ${timeoutMs} ms`, false))
      }, timeoutMs)
      const copies = this.random.next() < this.options.duplicateRate ? 2 : 1
      if (copies === 2) this.stats.duplicated++
      for (let i = 0; i < copies; i++) this.send(from, to, wire, settle)
    })
  }

  // One copy of a request on the wire, and its answer back.
  private send (from: Endpoint, to: Target, wire: string, settle: (ok: boolean, value: unknown) => void): void {
    if (this.lost()) return
    this.clock.setTimeout(() => {
      const target = this.endpoints.get(to.address)
      if (target != null && this.cut(from.id, target.id)) {
        this.stats.partitioned++
        return
      }
      if (target == null || target.clock.state === 'crashed') {
        // the host's kernel answers at once: nothing listens there
        this.stats.refused++
        from.clock.setTimeout(() => { settle(false, new PeerUnreachableError(`${to.address}: connection refused`, true)) }, this.delay())
        return
      }
      // handled when the target runs: a paused process answers after it resumes, perhaps too late
      target.clock.setTimeout(() => {
        target.handle(from.id, JSON.parse(wire)).then(answer => {
          this.reply(target, from, JSON.stringify(answer), settle)
        }, (err: unknown) => {
          this.errors.push(`${target.id} failed to handle a request from ${from.id}: ${String(err)}`)
        })
      }, 0)
    }, this.delay())
  }

  private reply (target: Endpoint, from: Endpoint, wire: string, settle: (ok: boolean, value: unknown) => void): void {
    if (this.lost()) return
    from.clock.setTimeout(() => {
      if (this.cut(target.id, from.id)) {
        this.stats.partitioned++
        return
      }
      settle(true, JSON.parse(wire))
    }, this.delay())
  }

  private lost (): boolean {
    if (this.random.next() >= this.options.dropRate) return false
    this.stats.dropped++
    return true
  }

  private delay (): number {
    const { minDelayMs, maxDelayMs, reorderRate, reorderMaxMs } = this.options
    const base = minDelayMs + this.random.next() * (maxDelayMs - minDelayMs)
    return this.random.next() < reorderRate ? base + this.random.next() * reorderMaxMs : base
  }
}
