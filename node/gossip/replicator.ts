import type { GossipsubMessage } from '@chainsafe/libp2p-gossipsub'
import { TopicValidatorResult } from '@libp2p/interface'
import type { Message, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { ProtocolError } from '../errors.js'
import { snapshotEntry } from '../registry/owner-state.js'
import type { OwnerDelta, OwnerSnapshot } from '../registry/owner-state.js'
import type { Registry } from '../registry/registry.js'
import type { Op } from '../registry/types.js'
import { compareStamps } from '../registry/types.js'
import { decodeBatch, encodeBatch, parseSyncFrame, parseSyncRequest, parseSyncResponse } from './codec.js'
import type { SyncRequest, SyncResponse } from './codec.js'
import { trustDirectAuthors } from './direct-authorship.js'
import type { RpcReceiver } from './direct-authorship.js'
import type { Host } from './host.js'
import { Publisher } from './publisher.js'
import { FULL_MESH_MAX_MEMBERS, relayVerdict } from './relay-policy.js'
import { requestFramed, serve, serveFramed } from './stream-rpc.js'
import { FrameAssembler, framesOf } from './sync-frames.js'
import type { SyncPart } from './sync-frames.js'

/** The anti-entropy protocol: a version vector in, what the asker lacks out (one JSON answer; older nodes). */
export const SYNC_PROTOCOL = '/grapevine/sync/1.0.0'
/** The same, answered in frames: one per owner's delta, large snapshots in parts (see SyncFrame). */
export const SYNC_PROTOCOL_FRAMED = '/grapevine/sync/2.0.0'
// an answer: 100,000 instances take about 20 MB in frames (version 1's one document, about 46 MB);
// the entries it may hold are bounded too (sync-frames.ts): tombstones are small on the wire, not in the heap
const MAX_SYNC_BYTES = 256 * 1024 * 1024
// a request is a version vector: at most MAX_OWNERS entries of about 100 bytes
const MAX_SYNC_REQUEST_BYTES = 4 * 1024 * 1024

/** Collaborators of the replicator. */
export interface ReplicatorComponents {
  readonly host: Host
  readonly registry: Registry
  readonly logger: Logger
  /** peers to sync with: members believed ALIVE, without this node */
  readonly peers: () => PeerId[]
  /** members of the cluster, this node included (for the relay policy; cheap, called per batch) */
  readonly members: () => number
  /** test-only fault injection (partitions); absent in production */
  readonly faults?: { blocks: (peerId: string) => boolean, delayMs: () => number }
}

/** Options of the replicator. */
export interface ReplicatorInit {
  readonly nodeId: string
  readonly epoch: number
  readonly cluster: string
  readonly batchMs: number
  readonly batchMaxOps: number
  readonly antiEntropyIntervalMs: number
}

/** The head of an owner this node has never held. */
const NOTHING = { epoch: 0, seq: 0 } as const

/**
 * Keeps this node's copy of every owner's sub-map in step: publishes our
 * own ops in batches over gossipsub, applies others' batches when they
 * continue the owner's seq, pulls on a gap, and pulls when probes show a
 * member's version vector differing from ours for a whole period (and,
 * every tenth period, from a random member regardless).
 */
export class Replicator {
  readonly topic: string
  private readonly publisher: Publisher
  /** anti-entropy pulls answered so far */
  pulls = 0
  private readonly inflight = new Map<string, Promise<void>>()
  // the next pull from a peer, promised to callers who asked while one ran
  private readonly again = new Map<string, Deferred>()
  private readonly mismatch = new Map<string, number>()
  private rounds = 0
  private timer: NodeJS.Timeout | undefined
  private running = false
  private readonly onMessage = (evt: CustomEvent<GossipsubMessage>): void => {
    const delay = this.components.faults?.delayMs() ?? 0
    if (delay > 0) setTimeout(() => { this.receive(evt.detail) }, delay)
    else this.receive(evt.detail)
  }

  constructor (private readonly components: ReplicatorComponents, private readonly init: ReplicatorInit) {
    this.topic = `grapevine/${init.cluster}/registry/1`
    this.publisher = new Publisher(async batch => {
      await components.host.services.pubsub.publish(this.topic, encodeBatch(batch))
    }, components.logger, { owner: init.nodeId, epoch: init.epoch, batchMs: init.batchMs, maxOps: init.batchMaxOps })
  }

  /** Subscribes, serves the sync protocol and starts anti-entropy. */
  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    const { host, logger } = this.components
    // the same bound as the relay policy's: while it holds, a batch straight from its owner is not relayed
    trustDirectAuthors(host.services.pubsub as unknown as RpcReceiver, () => this.components.members() <= FULL_MESH_MAX_MEMBERS)
    host.services.pubsub.addEventListener('gossipsub:message', this.onMessage)
    host.services.pubsub.subscribe(this.topic)
    await serve(host, SYNC_PROTOCOL, MAX_SYNC_REQUEST_BYTES, logger, async (body, peer) => {
      const deltas: OwnerDelta[] = []
      const snapshots: OwnerSnapshot[] = []
      for await (const part of this.answer(body, peer)) {
        if ('delta' in part) deltas.push(part.delta)
        else snapshots.push(part.snapshot)
      }
      return { deltas, snapshots } satisfies SyncResponse
    })
    await serveFramed(host, SYNC_PROTOCOL_FRAMED, MAX_SYNC_REQUEST_BYTES, logger, (body, peer) => framesOf(this.answer(body, peer)))
    this.schedule(performance.now())
  }

  /** Stops publishing and anti-entropy; idempotent. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    clearTimeout(this.timer)
    this.publisher.stop()
    const { host } = this.components
    host.services.pubsub.removeEventListener('gossipsub:message', this.onMessage)
    await host.unhandle(SYNC_PROTOCOL).catch(() => {})
    await host.unhandle(SYNC_PROTOCOL_FRAMED).catch(() => {})
  }

  /** Queues one of our ops for publication. */
  publish (op: Op): void {
    this.publisher.enqueue(op)
  }

  /**
   * A probe told us `peer`'s vector hash. Ops in flight make hashes differ
   * for a moment; a difference that lasts an anti-entropy period means a
   * lost message (or a new node), and starts a pull. Idle nodes with equal
   * vectors open no sync streams at all.
   */
  observe (peer: PeerId, hash: string): void {
    const id = peer.toString()
    if (hash === this.components.registry.vectorHash()) {
      this.mismatch.delete(id)
      return
    }
    const now = performance.now()
    const since = this.mismatch.get(id)
    if (since == null) {
      this.mismatch.set(id, now)
    } else if (now - since >= this.init.antiEntropyIntervalMs && this.inflight.size === 0) {
      // while a pull runs, the difference may be what it brings: a joining node pulled the whole
      // registry from every member in parallel (5 copies); the next probe after it decides
      this.mismatch.delete(id)
      void this.syncWith(peer)
    }
  }

  /** Pulls from `peer` unless a pull from anyone is already under way. */
  syncIfIdle (peer: PeerId): void {
    if (this.inflight.size === 0) void this.syncWith(peer)
  }

  /** Pulls from a random peer now (a resumed watch is ahead of us). */
  syncNow (): void {
    const peers = this.components.peers()
    if (peers.length > 0) void this.syncWith(peers[Math.floor(Math.random() * peers.length)])
  }

  /**
   * Pulls what `peer` has and we lack. One pull per peer at a time; a pull
   * asked for while one runs runs once more after it, and resolves when
   * that one has (a caller waits for a pull that started after its call).
   */
  async syncWith (peer: PeerId): Promise<void> {
    const id = peer.toString()
    if (this.inflight.has(id)) {
      let next = this.again.get(id)
      if (next == null) this.again.set(id, next = deferred())
      return await next.promise
    }
    const p = this.pull(peer).finally(() => {
      this.inflight.delete(id)
      const next = this.again.get(id)
      this.again.delete(id)
      if (next == null) return
      if (this.running) void this.syncWith(peer).finally(next.resolve)
      else next.resolve()
    })
    this.inflight.set(id, p)
    await p
  }

  private async pull (peer: PeerId): Promise<void> {
    const { registry, logger, host } = this.components
    if (this.components.faults?.blocks(peer.toString()) === true) return
    const body: SyncRequest = { vector: registry.vector().map(e => ({ owner: e.owner, epoch: e.epoch, seq: e.seq })) }
    // each owner's part is checked as its frames arrive, and all are applied once the answer is
    // whole and sound (FrameAssembler): a peer's garbage late in an answer changes nothing
    const frames = new FrameAssembler()
    const onFrame = (raw: unknown, protocol: string): void => {
      if (protocol === SYNC_PROTOCOL_FRAMED) {
        frames.take(parseSyncFrame(raw))
        return
      }
      const res = parseSyncResponse(raw)
      // version 1's one document goes through the assembler too: the same bound on entries
      for (const delta of res.deltas) frames.take({ delta })
      for (const snapshot of res.snapshots) frames.take({ snapshot, more: false })
    }
    let received: SyncPart[]
    try {
      await requestFramed(host, peer, [SYNC_PROTOCOL_FRAMED, SYNC_PROTOCOL], SYNC_PROTOCOL_FRAMED, body, { maxBytes: MAX_SYNC_BYTES, signal: AbortSignal.timeout(30_000) }, onFrame)
      received = frames.end()
    } catch (err) {
      logger.debug({ err, peer: peer.toString() }, 'anti-entropy pull failed')
      return
    }
    this.pulls++
    let applied = 0
    for (const part of received) {
      // our own records are ours alone: a peer's part about us (never sent by an honest one) would overwrite them
      if (('delta' in part ? part.delta.owner : part.snapshot.owner) === this.init.nodeId) continue
      if ('delta' in part ? registry.applyDelta(part.delta) : registry.applySnapshot(part.snapshot, peer.toString())) applied++
    }
    if (applied > 0) logger.debug({ peer: peer.toString(), applied }, 'anti-entropy pulled')
  }

  // Answers a pull, one owner at a time (built as the frames are sent): deltas where the asker
  // holds our epoch and we still know the delta; snapshots otherwise.
  private * answer (body: unknown, peer: PeerId): Iterable<SyncPart> {
    if (this.components.faults?.blocks(peer.toString()) === true) throw new ProtocolError('partitioned (test fault)')
    const req = parseSyncRequest(body)
    const theirs = new Map(req.vector.map(e => [e.owner, e]))
    // push-pull: when the asker is ahead of us anywhere, pull from it in turn, unless a pull runs
    // already (a joining node is asked by every member at once: it pulled the registry from each);
    // a difference that remains shows in the next probes' vector hashes (observe)
    for (const t of req.vector) {
      const o = this.components.registry.owners.get(t.owner)
      // an owner we do not hold counts as 0/0: at 0/0 on their side too (gone there, dropped here) it brings nothing
      if (compareStamps(t, o?.head ?? NOTHING) > 0) {
        this.syncIfIdle(peer)
        break
      }
    }
    // the owners as they are now; each one's part is taken when its turn comes
    for (const o of [...this.components.registry.owners.values()]) {
      if (o.epoch === 0) continue
      const t = theirs.get(o.owner)
      if (t != null && compareStamps(t, o.head) >= 0) continue
      const delta = t != null && t.epoch === o.epoch ? o.deltaSince(t) : null
      if (delta != null && t != null) {
        yield { delta: { owner: o.owner, epoch: o.epoch, since: t.seq, head: o.seq, entries: delta.map(snapshotEntry) } }
      } else {
        yield { snapshot: o.snapshot() }
      }
    }
  }

  /** Applies a batch, then tells gossipsub whether to relay it (asyncValidation; see relay-policy.ts). */
  private receive ({ msg, msgId, propagationSource }: GossipsubMessage): void {
    const direct = msg.type === 'signed' && propagationSource.equals(msg.from)
    const verdict = relayVerdict({ verdict: this.apply(msg, direct ? propagationSource : undefined), direct, members: this.components.members() })
    this.components.host.services.pubsub.reportMessageValidationResult(msgId, propagationSource.toString(), verdict)
  }

  // `sender`: the connection's peer id when it is the author. It keeps its string; msg.from is a
  // new PeerId per message, whose string is a base58 encoding in JS (3% of a receiver's allocations)
  private apply (msg: Message, sender?: PeerId): TopicValidatorResult {
    if (msg.topic !== this.topic || msg.type !== 'signed') return TopicValidatorResult.Ignore
    const author = (sender ?? msg.from).toString()
    if (this.components.faults?.blocks(author) === true) return TopicValidatorResult.Ignore
    const { registry, logger } = this.components
    try {
      const batch = decodeBatch(msg.data)
      // only the owner writes its records: a batch must come signed by its owner
      if (batch.owner !== author) throw new ProtocolError('batch.owner: not the signer')
      if (batch.owner === this.init.nodeId) return TopicValidatorResult.Ignore
      const result = registry.applyBatch(batch)
      if (result.kind === 'gap') void this.syncWith(msg.from)
      return TopicValidatorResult.Accept
    } catch (err) {
      logger.warn({ err, peer: author }, 'dropped a bad gossip batch')
      return TopicValidatorResult.Reject
    }
  }

  private schedule (startedAt: number): void {
    const period = this.init.antiEntropyIntervalMs
    // jitter spreads the pulls of many nodes; the next due time is computed from the start (no drift)
    const delay = Math.max(0, period - ((performance.now() - startedAt) % period)) + Math.random() * period * 0.1
    this.timer = setTimeout(() => {
      if (!this.running) return
      // the safety net under the hash comparison of probes: a full swap every tenth period
      if (++this.rounds % 10 === 0) this.syncNow()
      this.schedule(startedAt)
    }, delay)
    this.timer.unref()
  }
}

interface Deferred { readonly promise: Promise<void>, readonly resolve: () => void }

function deferred (): Deferred {
  let resolve = (): void => {}
  const promise = new Promise<void>(r => { resolve = r })
  return { promise, resolve }
}
