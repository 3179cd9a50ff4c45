import { peerIdFromString } from '@libp2p/peer-id'
import type { Message, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { PeerUnreachableError, ProtocolError } from '../errors.js'
import { parseHostPort } from '../cli/args.js'
import { toMultiaddr } from '../gossip/host.js'
import type { Host } from '../gossip/host.js'
import { PeerChannels } from '../gossip/peer-channel.js'
import { request, serve } from '../gossip/stream-rpc.js'
import { mathRandom, realClock } from './clock.js'
import { encodeMembers, parseMembers } from './member-codec.js'
import type { Member } from './member-table.js'
import type { MemberTable } from './member-table.js'
import { Swim } from './swim.js'
import type { SwimConfig, Target } from './swim.js'
import type { SwimAnswer, SwimMessage } from './swim-codec.js'
import { isRefused } from './refused.js'
import type { FaultSwitch } from './fault-switch.js'

/** One-shot push-pull by address, for seeds whose peer id we do not know yet. */
export const MEMBERS_PROTOCOL = '/grapevine/members/1.0.0'

/** Data other parts of the node ride on probes (the registry's vector hash). */
export interface Piggyback {
  readonly local: () => Record<string, unknown>
  readonly remote: (peer: PeerId, data: Record<string, unknown>) => void
}

/** Collaborators of membership. */
export interface MembershipComponents {
  readonly host: Host
  readonly logger: Logger
  readonly piggyback?: Piggyback
  /** test-only fault injection (partitions); absent in production */
  readonly faults?: FaultSwitch
}

/** Options of membership. */
export interface MembershipInit {
  readonly self: Member
  readonly cluster: string
  readonly seeds: readonly string[]
  readonly config: SwimConfig
}

/**
 * SWIM membership on libp2p: the sans-IO core (`Swim`) on a transport of
 * long-lived peer channels, one-shot push-pull with seeds by address, and
 * the members gossipsub topic for this node's own verdicts, refutations and
 * leave. A closed connection triggers an immediate probe.
 */
export class Membership {
  readonly swim: Swim
  private readonly channels: PeerChannels
  private readonly topic: string
  private running = false
  private readonly onMessage = (evt: CustomEvent<Message>): void => { this.receive(evt.detail) }
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => { this.swim.connectionClosed(evt.detail.toString()) }

  constructor (private readonly components: MembershipComponents, private readonly init: MembershipInit) {
    this.topic = `grapevine/${init.cluster}/members/1`
    const piggyback = components.piggyback
    this.swim = new Swim({
      clock: realClock,
      random: mathRandom,
      logger: components.logger,
      transport: { request: async (to, msg, timeoutMs) => await this.request(to, msg, timeoutMs) },
      validId: isPeerId,
      // only our own accusations and verdicts are announced, so the signer is the accuser
      announce: m => { void this.publish(m) },
      piggyback: piggyback == null ? undefined : { local: piggyback.local, remote: (id, x) => { piggyback.remote(peerIdFromString(id), x) } }
    }, { self: init.self, seeds: init.seeds, config: init.config })
    this.channels = new PeerChannels({ host: components.host, logger: components.logger }, async (body, peer) => await this.answer(body, peer))
  }

  /** The member table. */
  get table (): MemberTable {
    return this.swim.table
  }

  /** This node's own entry. */
  get me (): Member {
    return this.swim.me
  }

  /** Starts answering, listening, joining and probing. */
  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    const { host } = this.components
    await this.channels.start()
    await serve(host, MEMBERS_PROTOCOL, 16 * 1024 * 1024, this.components.logger, async (body, peer) => await this.answer(body, peer))
    host.services.pubsub.addEventListener('message', this.onMessage)
    host.services.pubsub.subscribe(this.topic)
    host.addEventListener('peer:disconnect', this.onDisconnect)
    this.swim.start()
  }

  /** Stops everything; idempotent. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.swim.stop()
    const { host } = this.components
    host.services.pubsub.removeEventListener('message', this.onMessage)
    host.removeEventListener('peer:disconnect', this.onDisconnect)
    await host.unhandle(MEMBERS_PROTOCOL).catch(() => {})
    await this.channels.stop()
  }

  /** Announces LEFT directly to every live member and over gossip. */
  async leave (timeoutMs: number): Promise<void> {
    await this.swim.leave(timeoutMs)
  }

  /** Peer ids of members believed ALIVE or SUSPECT, without this node. */
  livePeers (): PeerId[] {
    return this.swim.live().map(m => peerIdFromString(m.id))
  }

  // Every message names its cluster: nodes of another cluster never merge with ours.
  private async answer (body: unknown, peer: PeerId): Promise<unknown> {
    const { c, m } = (body ?? {}) as { c?: unknown, m?: unknown }
    if (c !== this.init.cluster) throw new ProtocolError(`swim.c: "${String(c)}" is not this cluster`)
    const faults = this.components.faults
    if (faults?.blocks(peer.toString()) === true) throw new ProtocolError('partitioned (test fault)')
    if (faults != null && faults.delayMs() > 0) await new Promise(resolve => setTimeout(resolve, faults.delayMs()))
    return { c: this.init.cluster, m: await this.swim.handle(peer.toString(), m) }
  }

  private async request (to: Target, msg: SwimMessage, timeoutMs: number): Promise<SwimAnswer> {
    if (to.id != null && this.components.faults?.blocks(to.id) === true) throw new PeerUnreachableError('partitioned (test fault)', false)
    const { host, port } = parseHostPort(to.address, 'gossipAddress')
    const body = { c: this.init.cluster, m: msg }
    const signal = AbortSignal.timeout(timeoutMs)
    let raw: unknown
    try {
      raw = to.id != null
        ? await this.channels.request(peerIdFromString(to.id), toMultiaddr(host, port, to.id), body, signal)
        : await request(this.components.host, toMultiaddr(host, port), MEMBERS_PROTOCOL, body, { signal, maxBytes: 16 * 1024 * 1024 })
    } catch (err) {
      throw new PeerUnreachableError(`${to.address} unreachable`, await this.refused(err, to, host, port), { cause: err })
    }
    const { c, m } = (raw ?? {}) as { c?: unknown, m?: unknown }
    if (c !== this.init.cluster) throw new ProtocolError(`swim.c: "${String(c)}" is not this cluster`)
    return m as SwimAnswer
  }

  // A timeout on a channel whose connection is gone may hide a refusal: one quick dial tells.
  private async refused (err: unknown, to: Target, host: string, port: number): Promise<boolean> {
    if (isRefused(err)) return true
    if (to.id == null || this.components.host.getConnections(peerIdFromString(to.id)).length > 0) return false
    try {
      await this.components.host.dial(toMultiaddr(host, port, to.id), { signal: AbortSignal.timeout(500) })
      return false
    } catch (e) {
      return isRefused(e)
    }
  }

  private async publish (m: Member): Promise<void> {
    const data = Buffer.from(JSON.stringify(encodeMembers({ cluster: this.init.cluster, members: [m] })))
    await this.components.host.services.pubsub.publish(this.topic, data).catch(err => {
      this.components.logger.debug({ err }, 'members publish failed; piggybacking will spread it')
    })
  }

  private receive (msg: Message): void {
    if (msg.topic !== this.topic || msg.type !== 'signed') return
    if (this.components.faults?.blocks(msg.from.toString()) === true) return
    try {
      const parsed = parseMembers(JSON.parse(Buffer.from(msg.data).toString('utf8')), isPeerId)
      if (parsed.cluster !== this.init.cluster) throw new ProtocolError('members.cluster: not this cluster')
      // the signer is the accuser of a SUSPECT it announces: distinct accusers confirm a suspicion
      this.swim.mergeTable(parsed.members, msg.from.toString())
    } catch (err) {
      this.components.logger.warn({ err }, 'dropped a bad members message')
    }
  }
}

/**
 * Whether a member id is a peer id (the member's libp2p key), in its one
 * canonical spelling: a CID spelling of the same key was a second table
 * entry for one peer.
 */
export function isPeerId (id: string): boolean {
  try {
    return peerIdFromString(id).toString() === id
  } catch {
    return false
  }
}
