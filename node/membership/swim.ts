import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { PeerUnreachableError, ProtocolError } from '../errors.js'
import { Awareness } from './awareness.js'
import type { FailureDetector } from './failure-detector.js'
import { BroadcastQueue } from './broadcast-queue.js'
import type { Update } from './broadcast-queue.js'
import { shuffle } from './clock.js'
import type { Clock, Random, TimerHandle } from './clock.js'
import { MemberTable } from './member-table.js'
import type { Member } from './member-table.js'
import type { MemberIdCheck } from './member-codec.js'
import { parseSwimAnswer, parseSwimMessage } from './swim-codec.js'
import type { SwimAnswer, SwimMessage } from './swim-codec.js'
import { Suspicion, suspicionMinMs } from './suspicion.js'

/**
 * The most members a table takes (hundreds by design): past it a new member
 * is ignored. Without a bound one forged push-pull of 100,000 members
 * blocked the event loop for seconds and left probing on members that never
 * existed.
 */
export const MAX_TABLE_MEMBERS = 10_000

/** Where a message goes: a member (by id and address) or a bare seed address. */
export interface Target {
  readonly id?: string
  readonly address: string
}

/**
 * The wire under the SWIM core: libp2p in production, a memory network in
 * the simulation. `request` rejects with PeerUnreachableError (refused or not).
 */
export interface SwimTransport {
  request: (to: Target, msg: SwimMessage, timeoutMs: number) => Promise<SwimAnswer>
}

/** Timing and sizing of SWIM: the fields of NodeConfig it reads. */
export interface SwimConfig {
  readonly probeIntervalMs: number
  readonly probeTimeoutMs: number
  readonly indirectChecks: number
  readonly suspicionMult: number
  readonly suspicionMaxTimeoutMult: number
  readonly refusedSuspicionMs: number
  readonly retransmitMult: number
  readonly maxPiggyback: number
  readonly awarenessMaxMultiplier: number
  readonly reconnectIntervalMs: number
  readonly deadMemberKeepMs: number
  /** a table-hash difference lasting this long starts a push-pull */
  readonly antiEntropyIntervalMs: number
  readonly joinRetryMs: number
}

/** Collaborators of the core. */
export interface SwimComponents {
  readonly clock: Clock
  readonly random: Random
  readonly transport: SwimTransport
  readonly logger: Logger
  /** which strings are member ids (peer ids in production); absent: any (the simulation's m0, m1, ...) */
  readonly validId?: MemberIdCheck
  /** opaque data other parts of the node ride on probes (the registry's vector hash) */
  readonly piggyback?: {
    readonly local: () => Record<string, unknown>
    readonly remote: (peerId: string, data: Record<string, unknown>) => void
  }
  /**
   * Called with this node's own verdicts (DEAD), refutations and leave, for
   * a faster channel than piggybacking (gossipsub in production). Only our
   * own: re-announcing what we heard would be a gossip storm.
   */
  readonly announce?: (m: Member, accuser?: string) => void
}

/** Options of the core. */
export interface SwimInit {
  /** this node, ALIVE at its start incarnation */
  readonly self: Member
  /** seeds' addresses */
  readonly seeds: readonly string[]
  readonly config: SwimConfig
}

/**
 * SWIM with the Lifeguard extensions, sans-IO (memberlist is the reference).
 * Each period probe one member in shuffled round robin; on a missed ack ask
 * k others to probe it; no ack at all: SUSPECT, spread on probes, DEAD when
 * the suspicion runs out (it shrinks as independent members confirm). A
 * refused direct probe that every indirect prober also finds refused means
 * the process is gone: a short suspicion. A suspected member refutes with a
 * higher incarnation. Local health awareness stretches our own timeouts
 * when we miss acks and nacks.
 */
export class Swim implements FailureDetector {
  readonly table: MemberTable
  private self: Member
  private readonly awareness: Awareness
  private readonly broadcasts: BroadcastQueue
  private readonly suspicions = new Map<string, { s: Suspicion, fast: boolean }>()
  private readonly probing = new Set<string>()
  private readonly mismatch = new Map<string, number>()
  /** accusers already sent our refutation, as `id#incarnation` */
  private readonly told = new Set<string>()
  private order: string[] = []
  private timers: TimerHandle[] = []
  private running = false
  private joined = false
  private hashCache: { version: number, hash: string } | undefined

  constructor (private readonly components: SwimComponents, private readonly init: SwimInit) {
    this.self = init.self
    this.table = new MemberTable(components.clock.now)
    this.table.set(this.self)
    this.awareness = new Awareness(init.config.awarenessMaxMultiplier)
    this.broadcasts = new BroadcastQueue(init.config.retransmitMult)
  }

  /** This node's own entry. */
  get me (): Member {
    return this.self
  }

  /** Lifeguard's local health score (0 healthy). */
  get health (): number {
    return this.awareness.health
  }

  /** Members believed ALIVE or SUSPECT, without this node. */
  live (): Member[] {
    return this.table.all().filter(m => m.id !== this.self.id && (m.state === 'ALIVE' || m.state === 'SUSPECT'))
  }

  /** Starts probing, joining and reconnecting. */
  start (): void {
    if (this.running) return
    this.running = true
    // no seeds but ourselves: this node starts a cluster of its own
    this.joined = this.init.seeds.every(a => a === this.self.gossipAddress)
    this.loop(() => this.init.config.probeIntervalMs, () => { this.probeNext() }, true)
    this.loop(() => (this.joined ? this.init.config.reconnectIntervalMs : this.init.config.joinRetryMs), async () => { await this.reconnect() })
  }

  /** Stops every timer and suspicion; idempotent. */
  stop (): void {
    this.running = false
    for (const t of this.timers) t.cancel()
    this.timers = []
    for (const { s } of this.suspicions.values()) s.cancel()
    this.suspicions.clear()
  }

  /** Announces LEFT to every live member directly, then stops probing. */
  async leave (timeoutMs: number): Promise<void> {
    this.self = { ...this.self, state: 'LEFT' }
    this.table.set(this.self)
    this.components.announce?.(this.self)
    const update = [{ member: this.self }]
    await Promise.allSettled(this.live().map(async m => await this.send(targetOf(m), { t: 'ping', updates: update, mh: this.membersHash(), x: {} }, timeoutMs)))
    this.stop()
  }

  /** A connection to the member closed: probe it now rather than in its turn. */
  connectionClosed (id: string): void {
    this.probeNow(id)
  }

  /** Probes a member now (a closed connection, or someone else's suspicion to check). */
  probeNow (id: string): void {
    const m = this.table.get(id)
    if (m != null && (m.state === 'ALIVE' || m.state === 'SUSPECT')) void this.probe(m)
  }

  /** Answers one message from a peer (validated here: peers may send garbage). */
  async handle (fromId: string, raw: unknown): Promise<SwimAnswer> {
    const msg = parseSwimMessage(raw, this.components.validId)
    if (msg.t === 'push-pull') {
      this.mergeTable(msg.members, fromId, true)
      return { t: 'push-pull', members: this.table.all() }
    }
    this.absorb(fromId, msg.updates, msg.mh, msg.x)
    if (msg.t === 'ping') {
      const ack = this.ack()
      // the prober suspects us (buddy system): answer with our refutation, whatever the queue holds
      if (msg.updates.some(u => u.member.id === this.self.id) && !ack.updates.some(u => u.member.id === this.self.id)) {
        return { ...ack, updates: [...ack.updates, { member: this.self }] }
      }
      return ack
    }
    // ping-req: probe the target for the asker; nack (with the refused flag) when we cannot reach it.
    // The relayed ping carries the suspicion too (buddy system), and our ack passes the target's
    // refutation back to the asker whatever our queue holds: an ack alone clears no suspicion.
    try {
      const answer = await this.send(targetOf(msg.target), this.ping(msg.target, fromId), this.awareness.scale(this.init.config.probeTimeoutMs))
      if (answer.t !== 'ack') return this.ack()
      this.absorb(msg.target.id, answer.updates, answer.mh, answer.x)
      const ack = this.ack()
      const own = answer.updates.filter(u => u.member.id === msg.target.id && u.member.state === 'ALIVE')
      return { ...ack, updates: [...ack.updates.filter(u => u.member.id !== msg.target.id), ...own] }
    } catch (err) {
      return { t: 'nack', refused: err instanceof PeerUnreachableError && err.refused, updates: this.take(), mh: this.membersHash(), x: this.x() }
    }
  }

  // ---- probing ----

  private probeNext (): void {
    if (this.order.length === 0) this.order = shuffle(this.live().map(m => m.id), this.components.random)
    const id = this.order.shift()
    const m = id == null ? undefined : this.table.get(id)
    if (m != null && (m.state === 'ALIVE' || m.state === 'SUSPECT')) void this.probe(m)
  }

  private async probe (m: Member): Promise<void> {
    if (!this.running || this.probing.has(m.id)) return
    this.probing.add(m.id)
    try {
      const timeout = this.awareness.scale(this.init.config.probeTimeoutMs)
      let directRefused = false
      try {
        const answer = await this.send(targetOf(m), this.ping(m), timeout)
        if (answer.t !== 'ack') throw new ProtocolError('ping: answer is not an ack')
        this.absorb(m.id, answer.updates, answer.mh, answer.x)
        this.awareness.apply(-1)
        return
      } catch (err) {
        directRefused = err instanceof PeerUnreachableError && err.refused
      }
      if (!this.running) return
      const vias = shuffle(this.live().filter(x => x.id !== m.id), this.components.random).slice(0, this.init.config.indirectChecks)
      const { acked, nacks, refusedNacks } = await this.indirect(m, vias, timeout)
      // acked through others: the probe succeeded (memberlist); missing nacks: perhaps we are the slow one
      this.awareness.apply(acked ? -1 : vias.length > nacks ? 1 : 0)
      // refused directly but acked through another member: only our path is broken
      if (acked || !this.running) return
      const current = this.table.get(m.id)
      // it refuted (or was declared) while we probed: our evidence is about an older incarnation
      if (current == null || current.incarnation !== m.incarnation) return
      this.suspect(current, this.self.id, directRefused && refusedNacks === vias.length)
    } finally {
      this.probing.delete(m.id)
    }
  }

  // Asks `vias` to probe `m` (ping-req). Each answer is taken in as it comes: an ack may carry
  // the target's refutation, which must not wait for the slowest via. Done at the first ack.
  private async indirect (m: Member, vias: readonly Member[], timeout: number): Promise<{ acked: boolean, nacks: number, refusedNacks: number }> {
    const out = { acked: false, nacks: 0, refusedNacks: 0 }
    let pending = vias.length
    await new Promise<void>(resolve => {
      if (pending === 0) resolve()
      for (const v of vias) {
        // the via's own probe times out after probeTimeoutMs: half as much again covers its nack's way back
        this.send(targetOf(v), { t: 'ping-req', target: m, updates: this.take(), mh: this.membersHash(), x: this.x() }, timeout * 1.5).then(a => {
          if (!this.running || a.t === 'push-pull') return
          this.absorb(v.id, a.updates, a.mh, a.x)
          if (a.t === 'ack') {
            out.acked = true
            resolve()
          } else {
            out.nacks++
            if (a.refused) out.refusedNacks++
          }
        }, () => {}).finally(() => { if (--pending === 0) resolve() })
      }
    })
    return out
  }

  // ---- suspicion ----

  private suspect (m: Member, accuser: string, refused: boolean): void {
    // stopped (or leaving): messages still come in until the node is gone, but it gives no more
    // verdicts, and a suspicion started now would have a timer nobody cancels
    if (!this.running || (m.state !== 'ALIVE' && m.state !== 'SUSPECT')) return
    const entry = this.suspicions.get(m.id)
    if (entry != null && m.state === 'SUSPECT') {
      if (refused && !entry.fast) this.startSuspicion(m, accuser, true)
      else if (entry.s.confirm(accuser)) {
        this.broadcasts.push({ member: m, from: accuser })
        if (accuser === this.self.id) this.components.announce?.(m, accuser)
      }
      return
    }
    const suspected: Member = { ...m, state: 'SUSPECT' }
    this.table.set(suspected)
    this.broadcasts.push({ member: suspected, from: accuser })
    // our own accusations go out at once: others re-check and confirm sooner than piggybacking would carry it
    if (accuser === this.self.id) this.components.announce?.(suspected, accuser)
    this.startSuspicion(suspected, accuser, refused)
    this.components.logger.debug({ peer: m.id, accuser, refused }, 'suspecting member')
  }

  private startSuspicion (m: Member, accuser: string, refused: boolean): void {
    this.suspicions.get(m.id)?.s.cancel()
    const c = this.init.config
    const n = this.table.all().filter(x => x.state === 'ALIVE' || x.state === 'SUSPECT').length
    const k = n - 2 < c.suspicionMult - 2 ? 0 : c.suspicionMult - 2
    // a node that is itself unhealthy (Lifeguard's score) waits longer before its own verdict:
    // healthier members declare a really dead member at the normal time, and we take theirs
    const min = refused ? c.refusedSuspicionMs : this.awareness.scale(suspicionMinMs(c.suspicionMult, n, c.probeIntervalMs))
    const max = refused ? c.refusedSuspicionMs : min * c.suspicionMaxTimeoutMult
    const s = new Suspicion(this.components.clock, accuser, k, min, max, () => { this.declareDead(m) })
    this.suspicions.set(m.id, { s, fast: refused })
    this.recheck(m.id, s)
  }

  // While a suspicion lasts, probe the member every period: the probe carries the
  // suspicion and its ack the refutation, so a lost broadcast cannot kill a live member.
  // Not stretched by awareness: a node that doubts itself needs the refutation no later.
  private recheck (id: string, s: Suspicion): void {
    const t = this.components.clock.setTimeout(() => {
      this.timers = this.timers.filter(x => x !== t)
      if (!this.running || this.suspicions.get(id)?.s !== s) return
      this.probeNow(id)
      this.recheck(id, s)
    }, this.init.config.probeIntervalMs)
    this.timers.push(t)
  }

  private declareDead (m: Member): void {
    this.suspicions.delete(m.id)
    const current = this.table.get(m.id)
    // a refutation (higher incarnation) or another verdict got here first
    if (current == null || current.state !== 'SUSPECT' || current.incarnation !== m.incarnation) return
    const dead: Member = { ...current, state: 'DEAD' }
    this.table.set(dead)
    this.broadcasts.push({ member: dead })
    this.components.announce?.(dead)
  }

  // ---- updates ----

  /** Merges updates and the piggyback that came with a message from `fromId`. */
  private absorb (fromId: string | undefined, updates: readonly Update[], mh: string, x: Record<string, unknown>): void {
    for (const u of updates) this.apply(u, fromId)
    // a sender not (or no longer) in the table: what it says of its table and vector waits for its
    // join; kept per sender, it grew a map without bound from peers' input
    if (fromId == null || this.table.get(fromId) == null) {
      if (fromId != null) this.mismatch.delete(fromId)
      return
    }
    this.components.piggyback?.remote(fromId, x)
    this.compareTables(fromId, mh)
  }

  private apply (u: Update, sender: string | undefined): void {
    const m = u.member
    if (m.id === this.self.id) {
      this.refuteIfNeeded(m)
      // the accuser, and whoever passed the rumour on (had it our refutation, it would pass that instead)
      if (m.state !== 'ALIVE') for (const id of new Set([u.from, sender])) this.tellAccuser(id)
      return
    }
    const known = this.table.get(m.id)
    if (m.state === 'ALIVE') {
      if (known != null && m.incarnation <= known.incarnation) return
      if (known == null && this.table.size >= MAX_TABLE_MEMBERS) {
        this.components.logger.warn({ peer: m.id, members: this.table.size }, 'member table full: a new member is ignored')
        return
      }
      this.suspicions.get(m.id)?.s.cancel()
      this.suspicions.delete(m.id)
      this.table.set(m)
      this.broadcasts.push({ member: m })
      // a member new to us joins the current round at a random place (memberlist), not the next round
      if (known == null || known.state === 'DEAD' || known.state === 'LEFT') this.enterRound(m.id)
      return
    }
    // a member we never saw, already DEAD or LEFT: keep the verdict, so the records we pull
    // for it from peers show as they should (CRITICAL, or gone) instead of PASSING
    if (known == null && (m.state === 'DEAD' || m.state === 'LEFT')) {
      if (this.table.size < MAX_TABLE_MEMBERS) this.table.set(m)
      return
    }
    if (known == null || m.incarnation < known.incarnation) return
    if (m.state === 'SUSPECT') {
      const accuser = u.from ?? sender ?? '?'
      if (known.state === 'DEAD' || known.state === 'LEFT') return
      this.suspect({ ...known, incarnation: m.incarnation }, accuser, false)
      // check for ourselves: a failed probe of ours confirms the suspicion (and speeds it up)
      if (accuser !== this.self.id && this.running) this.components.clock.setTimeout(() => { this.probeNow(m.id) }, 0)
      return
    }
    // DEAD or LEFT
    if ((known.state === 'DEAD' || known.state === 'LEFT') && m.incarnation === known.incarnation && (known.state === 'LEFT' || m.state === 'DEAD')) return
    this.suspicions.get(m.id)?.s.cancel()
    this.suspicions.delete(m.id)
    this.table.set(m)
    this.broadcasts.push({ member: m })
  }

  /**
   * Refutes a rumour of our failure with a higher incarnation; true when it
   * did. An ALIVE about us above our incarnation is refuted too (memberlist's
   * aliveNode): it is an earlier run of ours that refuted more often than this
   * run's start counted (the incarnation at start is the last start's + 1,
   * and refutations are not persisted). Left alone, the cluster held the
   * higher one, our own announcements lost to it, and the tables never agreed.
   */
  private refuteIfNeeded (rumour: Member): boolean {
    if (this.self.state === 'LEFT') return false
    if (rumour.state === 'ALIVE' ? rumour.incarnation <= this.self.incarnation : rumour.incarnation < this.self.incarnation) return false
    this.self = { ...this.self, state: 'ALIVE', incarnation: rumour.incarnation + 1 }
    this.told.clear()
    this.table.set(this.self)
    this.broadcasts.push({ member: this.self })
    this.components.announce?.(this.self)
    // being suspected hints that we are the slow one
    if (rumour.state !== 'ALIVE') this.awareness.apply(1)
    this.components.logger.warn({ rumour: rumour.state, incarnation: this.self.incarnation }, 'refuting a rumour of our failure')
    return true
  }

  // Every accuser's suspicion runs out at about the same time (they hear each other at once): send
  // each the refutation directly (twice if need be), once per incarnation, rather than only hope a
  // piggyback gets there in time. After a pause the acks to its queued pings came too late to count.
  private tellAccuser (id: string | undefined, attempt = 0): void {
    const m = id == null || id === this.self.id ? undefined : this.table.get(id)
    if (m == null || attempt > 1) return
    if (attempt === 0) {
      const key = `${id}#${this.self.incarnation}`
      if (this.told.has(key)) return
      this.told.add(key)
    }
    const msg: SwimMessage = { t: 'ping', updates: [{ member: this.self }], mh: this.membersHash(), x: this.x() }
    this.send(targetOf(m), msg, this.init.config.probeTimeoutMs)
      .then(answer => { if (answer.t === 'ack') this.absorb(m.id, answer.updates, answer.mh, answer.x) })
      .catch(() => { this.tellAccuser(id, attempt + 1) })
  }

  /**
   * Merges a member list from a peer: an announcement (a verdict its signer
   * reached) or, with `pushPull`, the peer's whole table. A DEAD in a table
   * is only that peer's view: after a partition each side holds the other
   * DEAD, and taken as a verdict it killed, on the healing join, members
   * this node reached all along. It starts a suspicion instead, which our
   * own probes confirm or the member refutes (memberlist's mergeState).
   */
  mergeTable (members: readonly Member[], fromId: string | undefined, pushPull = false): void {
    for (const m of members) {
      const known = pushPull && m.state === 'DEAD' && m.id !== this.self.id ? this.table.get(m.id) : undefined
      const asSuspicion = known != null && (known.state === 'ALIVE' || known.state === 'SUSPECT')
      this.apply({ member: asSuspicion ? { ...m, state: 'SUSPECT' } : m, from: fromId }, fromId)
    }
  }

  // A member new to us joins the current round at a random place (memberlist), not the next
  // round: appended, then swapped with a random one (a splice was O(n) per member)
  private enterRound (id: string): void {
    const j = Math.floor(this.components.random.next() * (this.order.length + 1))
    this.order.push(id)
    const last = this.order.length - 1
    ;[this.order[j], this.order[last]] = [this.order[last], this.order[j]]
  }

  // A table-hash difference that lasts an anti-entropy period starts a push-pull with that peer.
  private compareTables (peerId: string, mh: string): void {
    if (mh === this.membersHash()) {
      this.mismatch.delete(peerId)
      return
    }
    const now = this.components.clock.now()
    const since = this.mismatch.get(peerId)
    const m = this.table.get(peerId)
    if (since == null) {
      this.mismatch.set(peerId, now)
    } else if (now - since >= this.init.config.antiEntropyIntervalMs && m != null) {
      this.mismatch.delete(peerId)
      void this.pushPull(targetOf(m)).catch(() => {})
    }
  }

  // ---- push-pull, join, reconnect ----

  private async pushPull (to: Target): Promise<void> {
    const answer = await this.send(to, { t: 'push-pull', members: this.table.all() }, Math.max(2000, this.init.config.probeTimeoutMs * 4))
    if (answer.t !== 'push-pull') throw new ProtocolError('push-pull: wrong answer')
    this.mergeTable(answer.members, to.id, true)
  }

  private async reconnect (): Promise<void> {
    const targets: Target[] = []
    const live = this.live()
    if (!this.joined || live.length === 0) {
      targets.push(...this.init.seeds.filter(s => s !== this.self.gossipAddress).map(address => ({ address })))
    } else {
      const dead = this.table.all().filter(m => m.state === 'DEAD')
      if (dead.length > 0) targets.push(targetOf(pick(dead, this.components.random)))
      // a seed already known live needs no push-pull by address (a new connection and handshake each time)
      const known = new Set(live.map(m => m.gossipAddress))
      const seeds = this.init.seeds.filter(s => s !== this.self.gossipAddress && !known.has(s))
      if (seeds.length > 0) targets.push({ address: pick(seeds, this.components.random) })
    }
    const results = await Promise.allSettled(targets.map(async t => { await this.pushPull(t) }))
    if (!this.joined && results.some(r => r.status === 'fulfilled')) {
      this.joined = true
      this.components.logger.info({ members: this.table.all().length }, 'joined the cluster')
    }
    this.forgetOldDead()
  }

  private forgetOldDead (): void {
    const now = this.components.clock.now()
    for (const m of this.table.all()) {
      if ((m.state === 'DEAD' || m.state === 'LEFT') && now - this.table.stateSince(m.id) > this.init.config.deadMemberKeepMs) this.table.remove(m.id)
    }
  }

  // ---- messages ----

  private async send (to: Target, msg: SwimMessage, timeoutMs: number): Promise<SwimAnswer> {
    return parseSwimAnswer(await this.components.transport.request(to, msg, timeoutMs), this.components.validId)
  }

  /**
   * A ping; to a member we (or the `asker` of a ping-req) suspect it also
   * carries the suspicion (Lifeguard's buddy system), so the member hears of
   * it at once and its ack carries the refutation straight back, whatever
   * the broadcast queue has left.
   */
  private ping (to?: Member, asker?: string): SwimMessage {
    let updates = this.take()
    const current = to == null ? undefined : this.table.get(to.id)
    const suspicion: Update | undefined = current?.state === 'SUSPECT'
      ? { member: current, from: this.self.id }
      : to?.state === 'SUSPECT' && asker != null ? { member: to, from: asker } : undefined
    // it replaces whatever the queue holds about the member (an ALIVE it needs no news of)
    if (suspicion != null && !updates.some(u => u.member.id === suspicion.member.id && u.member.state !== 'ALIVE')) {
      updates = [...updates.filter(u => u.member.id !== suspicion.member.id), suspicion]
    }
    return { t: 'ping', updates, mh: this.membersHash(), x: this.x() }
  }

  private ack (): Extract<SwimAnswer, { t: 'ack' }> {
    return { t: 'ack', updates: this.take(), mh: this.membersHash(), x: this.x() }
  }

  private take (): Update[] {
    return this.broadcasts.take(this.init.config.maxPiggyback, this.table.all().length)
  }

  private x (): Record<string, unknown> {
    return this.components.piggyback?.local() ?? {}
  }

  /** A short hash of the member table (id, state, incarnation of each). */
  membersHash (): string {
    if (this.hashCache?.version !== this.table.version) {
      const rows = this.table.all().map(m => `${m.id}:${m.state}:${m.incarnation}`).sort()
      this.hashCache = { version: this.table.version, hash: createHash('md5').update(rows.join('\n')).digest('base64').slice(0, 16) }
    }
    return this.hashCache.hash
  }

  // Self-rescheduling timer; the period is read each time (awareness stretches it).
  private loop (period: () => number, fn: () => void | Promise<void>, scaled = false): void {
    const run = (): void => {
      if (!this.running) return
      void Promise.resolve().then(fn).catch(err => { this.components.logger.error({ err }, 'membership task failed') })
      schedule()
    }
    const schedule = (): void => {
      const ms = scaled ? this.awareness.scale(period()) : period()
      this.timers = this.timers.filter(t => t !== handle)
      handle = this.components.clock.setTimeout(run, ms)
      this.timers.push(handle)
    }
    let handle: TimerHandle = this.components.clock.setTimeout(run, 0)
    this.timers.push(handle)
  }
}

/** The address a member is reached at. */
export function targetOf (m: Member): Target {
  return { id: m.id, address: m.gossipAddress }
}

function pick<T> (list: readonly T[], random: Random): T {
  return list[Math.floor(random.next() * list.length)]
}
