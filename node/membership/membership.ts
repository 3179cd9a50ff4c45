import { peerIdFromString } from '@libp2p/peer-id'
import type { Message, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { ProtocolError } from '../errors.js'
import { parseHostPort } from '../cli/args.js'
import { toMultiaddr } from '../gossip/host.js'
import type { Host } from '../gossip/host.js'
import { PeerChannels } from '../gossip/peer-channel.js'
import { request, serve } from '../gossip/stream-rpc.js'
import { createHash } from 'node:crypto'
import { SimpleFailureDetector } from './failure-detector.js'
import type { FailureDetector } from './failure-detector.js'
import { MemberTable } from './member-table.js'
import type { Member } from './member-table.js'
import { encodeMembers, parseMembers } from './member-codec.js'

/** Push-pull of the whole member table, on join and periodically. */
export const MEMBERS_PROTOCOL = '/grapevine/members/1.0.0'

/** Data other parts of the node ride on probes (the registry's vector hash). */
export interface Piggyback {
  /** what this node adds to each probe and ack */
  readonly local: () => Record<string, unknown>
  /** what a peer added to its probe or ack */
  readonly remote: (peer: PeerId, data: Record<string, unknown>) => void
}

/** Collaborators of membership. */
export interface MembershipComponents {
  readonly host: Host
  readonly logger: Logger
  readonly now: () => number
  readonly piggyback?: Piggyback
}

/** Options of membership. */
export interface MembershipInit {
  /** this node, ALIVE at its start incarnation */
  readonly self: Member
  readonly cluster: string
  /** seeds' gossip addresses, host:port */
  readonly seeds: readonly string[]
  readonly probeIntervalMs: number
  readonly probeTimeoutMs: number
  readonly failureTimeoutMs: number
  readonly gossipIntervalMs: number
  readonly joinRetryMs: number
}

/**
 * The member table and its upkeep: join by push-pull with a seed, spread
 * changes over the members topic, push-pull with a member whose table hash
 * (carried on every probe) differs from ours for a whole period, with a DEAD
 * member or a seed now and then (so a healed partition or a restarted node
 * merges back), refute rumours of our own death, and announce LEFT on a
 * graceful leave.
 */
export class Membership {
  readonly table: MemberTable
  readonly detector: FailureDetector
  private readonly topic: string
  private self: Member
  private timer: NodeJS.Timeout | undefined
  private running = false
  private joined = false
  private rounds = 0
  private readonly channels: PeerChannels
  private readonly mismatch = new Map<string, number>()
  private hashCache: { version: number, hash: string } | undefined
  private readonly onMessage = (evt: CustomEvent<Message>): void => { this.receive(evt.detail) }
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => { this.detector.connectionClosed(evt.detail.toString()) }

  constructor (private readonly components: MembershipComponents, private readonly init: MembershipInit) {
    this.self = init.self
    this.topic = `grapevine/${init.cluster}/members/1`
    this.table = new MemberTable(components.now)
    this.table.set(this.self)
    this.detector = new SimpleFailureDetector({
      now: components.now,
      members: () => this.table.all().filter(m => m.id !== this.self.id && (m.state === 'ALIVE' || m.state === 'SUSPECT')),
      ping: async (m, signal) => {
        const ack = await this.channels.request(peerIdFromString(m.id), this.addressOf(m), this.probeBody(), signal)
        this.probeAnswered(m.id, ack)
      },
      declareDead: m => { this.verdict(m, 'DEAD') },
      markAlive: m => { this.table.set({ ...m, state: 'ALIVE' }) }
    }, init)
    this.channels = new PeerChannels({ host: components.host, logger: components.logger }, (body, peer) => {
      this.probeAnswered(peer.toString(), body)
      return this.probeBody()
    })
  }

  /** This node's own entry. */
  get me (): Member {
    return this.self
  }

  /** Starts serving push-pull, listening to the topic, joining and probing. */
  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    const { host } = this.components
    await serve(host, MEMBERS_PROTOCOL, 16 * 1024 * 1024, this.components.logger, (body, peer) => {
      this.absorb(parseMembers(body), peer.toString())
      return this.message(this.table.all())
    })
    host.services.pubsub.addEventListener('message', this.onMessage)
    host.services.pubsub.subscribe(this.topic)
    host.addEventListener('peer:disconnect', this.onDisconnect)
    await this.channels.start()
    this.detector.start()
    this.loop(Date.now())
  }

  /** Stops everything; idempotent. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    clearTimeout(this.timer)
    this.detector.stop()
    await this.channels.stop()
    const { host } = this.components
    host.services.pubsub.removeEventListener('message', this.onMessage)
    host.removeEventListener('peer:disconnect', this.onDisconnect)
    await host.unhandle(MEMBERS_PROTOCOL).catch(() => {})
  }

  /**
   * Announces LEFT: over gossip and directly to every live member, so their
   * view drops our instances now rather than after failure detection.
   */
  async leave (timeoutMs: number): Promise<void> {
    this.self = { ...this.self, state: 'LEFT' }
    this.table.set(this.self)
    await this.broadcast([this.self])
    const signal = AbortSignal.timeout(timeoutMs)
    await Promise.allSettled(this.peers().map(async m => await this.pushPull(this.addressOf(m), signal)))
  }

  /** Peer ids of members believed ALIVE or SUSPECT, without this node. */
  livePeers (): PeerId[] {
    return this.peers().map(m => peerIdFromString(m.id))
  }

  private peers (): Member[] {
    return this.table.all().filter(m => m.id !== this.self.id && (m.state === 'ALIVE' || m.state === 'SUSPECT'))
  }

  private probeBody (): unknown {
    return { t: 'probe', mh: this.membersHash(), p: this.components.piggyback?.local() ?? {} }
  }

  // Both ends of a probe learn the other's table hash and piggyback: a lasting
  // difference in the member table starts a push-pull with that peer.
  private probeAnswered (peerId: string, raw: unknown): void {
    if (raw == null || typeof raw !== 'object') throw new ProtocolError('probe: not an object')
    const { mh, p } = raw as { mh?: unknown, p?: unknown }
    if (typeof mh !== 'string' || p == null || typeof p !== 'object') throw new ProtocolError('probe: malformed')
    const peer = peerIdFromString(peerId)
    this.components.piggyback?.remote(peer, p as Record<string, unknown>)
    if (mh === this.membersHash()) {
      this.mismatch.delete(peerId)
      return
    }
    const now = this.components.now()
    const since = this.mismatch.get(peerId)
    const m = this.table.get(peerId)
    if (since == null) {
      this.mismatch.set(peerId, now)
    } else if (now - since >= this.init.gossipIntervalMs && m != null) {
      this.mismatch.delete(peerId)
      void this.pushPull(this.addressOf(m), AbortSignal.timeout(Math.max(2000, this.init.probeTimeoutMs * 4))).catch(() => {})
    }
  }

  /** A short hash of the member table (id, state, incarnation of each). */
  private membersHash (): string {
    if (this.hashCache?.version !== this.table.version) {
      const rows = this.table.all().map(m => `${m.id}:${m.state}:${m.incarnation}`).sort()
      this.hashCache = { version: this.table.version, hash: createHash('md5').update(rows.join('\n')).digest('base64').slice(0, 16) }
    }
    return this.hashCache.hash
  }

  private verdict (m: Member, state: 'DEAD'): void {
    const current = this.table.get(m.id)
    if (current == null || current.incarnation !== m.incarnation || current.state === state) return
    const dead = { ...current, state }
    this.table.set(dead)
    void this.broadcast([dead])
  }

  // Merges a peer's list; rumours of our own failure are refuted with a higher incarnation.
  private absorb (msg: { cluster: string, members: readonly Member[] }, from: string): void {
    if (msg.cluster !== this.init.cluster) throw new ProtocolError(`members.cluster: "${msg.cluster}" is not this cluster`)
    let refute = false
    for (const m of msg.members) {
      if (m.id === this.self.id) {
        if (m.state !== 'ALIVE' && this.self.state !== 'LEFT' && m.incarnation >= this.self.incarnation) {
          this.self = { ...this.self, incarnation: m.incarnation + 1 }
          refute = true
        }
        continue
      }
      this.table.merge(m)
    }
    if (refute) {
      this.table.set(this.self)
      this.components.logger.warn({ from, incarnation: this.self.incarnation }, 'refuting a rumour of our failure')
      void this.broadcast([this.self])
    }
  }

  private receive (msg: Message): void {
    if (msg.topic !== this.topic) return
    try {
      this.absorb(parseMembers(JSON.parse(Buffer.from(msg.data).toString('utf8'))), msg.type === 'signed' ? msg.from.toString() : '?')
    } catch (err) {
      this.components.logger.warn({ err }, 'dropped a bad members message')
    }
  }

  private async broadcast (members: Member[]): Promise<void> {
    const data = Buffer.from(JSON.stringify(this.message(members)))
    await this.components.host.services.pubsub.publish(this.topic, data).catch(err => {
      this.components.logger.debug({ err }, 'members publish failed; push-pull will repair')
    })
  }

  private message (members: readonly Member[]): unknown {
    return encodeMembers({ cluster: this.init.cluster, members })
  }

  private async pushPull (addr: ReturnType<typeof toMultiaddr>, signal: AbortSignal): Promise<void> {
    const raw = await request(this.components.host, addr, MEMBERS_PROTOCOL, this.message(this.table.all()), { maxBytes: 16 * 1024 * 1024, signal })
    this.absorb(parseMembers(raw), addr.toString())
  }

  private addressOf (m: Member): ReturnType<typeof toMultiaddr> {
    const { host, port } = parseHostPort(m.gossipAddress, 'gossipAddress')
    return toMultiaddr(host, port, m.id)
  }

  // Until joined: every joinRetryMs try each seed. Then every gossip period push-pull
  // with a random live member, and every third period with a DEAD member or a seed.
  private loop (startedAt: number): void {
    const period = this.joined ? this.init.gossipIntervalMs : this.init.joinRetryMs
    this.timer = setTimeout(() => {
      if (!this.running) return
      void this.round().finally(() => { if (this.running) this.loop(startedAt) })
    }, this.rounds === 0 ? 0 : period)
    this.timer.unref()
  }

  private async round (): Promise<void> {
    this.rounds++
    const signal = AbortSignal.timeout(Math.max(2000, this.init.probeTimeoutMs * 4))
    const targets: Array<ReturnType<typeof toMultiaddr>> = []
    const live = this.peers()
    if (!this.joined || live.length === 0) {
      targets.push(...this.seedAddresses())
    } else {
      // probes compare table hashes; this periodic push-pull is only the safety net
      if (this.rounds % 10 === 0) targets.push(this.addressOf(pick(live)))
      if (this.rounds % 3 === 0) {
        const dead = this.table.all().filter(m => m.state === 'DEAD')
        const seeds = this.seedAddresses()
        if (dead.length > 0) targets.push(this.addressOf(pick(dead)))
        if (seeds.length > 0) targets.push(pick(seeds))
      }
    }
    const results = await Promise.allSettled(targets.map(async a => await this.pushPull(a, signal)))
    // no seeds: this node starts a cluster of its own
    if ((targets.length === 0 || results.some(r => r.status === 'fulfilled')) && !this.joined) {
      this.joined = true
      this.components.logger.info({ members: this.table.all().length }, 'joined the cluster')
    }
  }

  private seedAddresses (): Array<ReturnType<typeof toMultiaddr>> {
    const out = []
    for (const s of this.init.seeds) {
      const { host, port } = parseHostPort(s, '--join')
      if (s === this.self.gossipAddress) continue
      out.push(toMultiaddr(host, port))
    }
    return out
  }
}

function pick<T> (list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)]
}
