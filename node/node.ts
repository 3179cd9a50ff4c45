import { hostname } from 'node:os'
import type { Server } from '@grpc/grpc-js'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import { clusterService } from './api/cluster-service.js'
import { HealthService } from './api/health-service.js'
import { registryService, watchOpener } from './api/registry-service.js'
import { bind, createGrpcServer, shutdown } from './api/server.js'
import type { NodeConfig } from './config.js'
import { DataDir } from './data-dir.js'
import { createHost } from './gossip/host.js'
import type { Host } from './gossip/host.js'
import { Replicator } from './gossip/replicator.js'
import { FaultSwitch } from './membership/fault-switch.js'
import { Membership } from './membership/membership.js'
import type { MemberChange } from './membership/member-table.js'
import { Discovery } from './registry/discovery.js'
import { LocalOwner } from './registry/local-owner.js'
import { Registry } from './registry/registry.js'
import { ownerStep } from './registry/owner-liveness.js'
import { WatchHub } from './registry/watch-hub.js'
import { instanceIdOfKey, serviceOfKey } from './registry/types.js'
import { MemoryReclaimer } from './memory-reclaimer.js'
import { monotonicNow } from './monotonic.js'
import { Persister } from './persister.js'
import { PickerCache } from './balancer/picker-cache.js'
import { createStrategyOptions } from './balancer/picker.js'
import { HealthManager } from './health/manager.js'

/** Options of one node. */
export interface NodeInit {
  readonly name: string
  readonly dataDir: string
  readonly grpcHost: string
  /** 0 picks a free port */
  readonly grpcPort: number
  readonly gossipHost: string
  /** 0 picks a free port */
  readonly gossipPort: number
  /** seeds' gossip addresses, host:port */
  readonly seeds: readonly string[]
  readonly cluster: string
  /** test-only: a file of peer ids to act partitioned from (see FaultSwitch) */
  readonly faultFile?: string
  readonly config: NodeConfig
  readonly logger: Logger
}

/** The parts of a started node, for tests and the API. */
interface Parts {
  dir: DataDir
  host: Host
  registry: Registry
  owner: LocalOwner
  replicator: Replicator
  membership: Membership
  watchHub: WatchHub
  server: Server
  health: HealthService
  persister: Persister
  healthChecks: HealthManager
  reaper: NodeJS.Timeout
  reclaimer: MemoryReclaimer
}

/**
 * A Grapevine node: wires the parts and starts and stops them in order.
 * start() and stop() are idempotent; a failed start stops what had started.
 */
export class GrapevineNode {
  id = ''
  grpcAddress = ''
  gossipAddress = ''
  private parts: Partial<Parts> = {}
  private readonly faults: FaultSwitch | undefined
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new'
  // the parts being started: a stop() meanwhile waits for them, or the parts made after it ran on
  private starting: Promise<void> | undefined

  constructor (readonly init: NodeInit) {
    this.faults = init.faultFile != null && init.faultFile !== '' ? new FaultSwitch(init.faultFile) : undefined
  }

  /** The started node's registry (tests read it directly). */
  get registry (): Registry {
    if (this.parts.registry == null) throw new Error('node not started')
    return this.parts.registry
  }

  /** The started node's membership. */
  get membership (): Membership {
    if (this.parts.membership == null) throw new Error('node not started')
    return this.parts.membership
  }

  /** Starts every part; resolves when the node serves gRPC. */
  async start (): Promise<void> {
    if (this.state !== 'new') return
    this.state = 'starting'
    try {
      this.starting = this.startParts()
      await this.starting
      // a stop() that came meanwhile has stopped every part by now
      if (this.state === 'starting') this.state = 'running'
    } catch (err) {
      await this.stop({ leave: false })
      throw err
    }
  }

  /** Stops the node: with `leave`, tells the cluster it LEFT first. Idempotent. */
  async stop (opts: { leave?: boolean } = {}): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return
    this.state = 'stopping'
    await this.starting?.catch(() => {})
    const p = this.parts
    const { config, logger } = this.init
    clearInterval(p.reaper)
    p.reclaimer?.stop()
    p.health?.shutdown()
    if (opts.leave !== false && p.membership != null) await p.membership.leave(config.grpcShutdownMs).catch(err => { logger.warn({ err }, 'leave failed') })
    if (p.server != null) await shutdown(p.server, config.grpcShutdownMs)
    p.watchHub?.close()
    p.owner?.stop()
    p.healthChecks?.stop()
    await p.replicator?.stop()
    await p.membership?.stop()
    try {
      await p.persister?.flush()
    } finally {
      // a data dir that cannot be written must not leave the gossip host running
      p.persister?.stop()
      await p.host?.stop()
      await p.dir?.close()
      this.state = 'stopped'
    }
    logger.info('stopped')
  }

  private async startParts (): Promise<void> {
    const { init } = this
    const { config } = init
    const dir = this.parts.dir = new DataDir(init.dataDir)
    await dir.open()
    const privateKey = await dir.key()
    const incarnation = await dir.nextIncarnation()
    const host = this.parts.host = await createHost({ privateKey, listenHost: init.gossipHost, listenPort: init.gossipPort })
    this.id = host.peerId.toString()
    const logger = init.logger.child({ nodeId: this.id.slice(-8), node: init.name })
    this.gossipAddress = `${advertised(init.gossipHost)}:${boundPort(host)}`
    const now = Date.now
    // the registry's clock times tombstones here only (tombstoneRetentionMs): on the
    // wall clock, a step forward pruned them all, and every resume became a RESET
    const registry = this.parts.registry = new Registry({ now: monotonicNow })
    const persister = this.parts.persister = new Persister(dir.records, { entry: key => owner.persisted(key), all: () => owner.persistable() }, logger, config.persistDebounceMs)
    const replicator: Replicator = this.parts.replicator = new Replicator({ host, registry, logger: logger.child({ c: 'replicator' }), peers: () => membership.livePeers(), members: () => membership.table.all().filter(m => m.state === 'ALIVE' || m.state === 'SUSPECT').length, faults: this.faults }, {
      nodeId: this.id, epoch: incarnation, cluster: init.cluster, batchMs: config.gossipBatchMs, batchMaxOps: config.gossipBatchMaxOps, antiEntropyIntervalMs: config.antiEntropyIntervalMs
    })
    const health = this.parts.healthChecks = new HealthManager({
      // check schedules and deregister_critical_after: timers, not timestamps
      now: monotonicNow,
      logger: logger.child({ c: 'health' }),
      setStatus: (key, status) => { owner.setStatus(key, status) },
      deregister: key => { owner.deregister(serviceOfKey(key), instanceIdOfKey(key)) }
    }, { maxConcurrent: config.maxConcurrentChecks })
    const owner = this.parts.owner = new LocalOwner({ registry, logger, now, clock: monotonicNow, publish: op => { replicator.publish(op) }, changed: key => { persister.schedule(key) }, renewed: key => { persister.scheduleLazy(key, 2000) }, health },
      { nodeId: this.id, epoch: incarnation, sweepIntervalMs: Math.min(250, config.probeIntervalMs) })
    const pickers = new PickerCache(createStrategyOptions({ panicThreshold: config.panicThreshold, localityThreshold: config.localityThreshold, loadOf: r => r.load ?? 0 }))
    const healthService = this.parts.health = new HealthService()
    const api = { registry, owner, discovery: new Discovery(registry, pickers), watchHub: this.watchHub(registry, replicator, logger), health, pickers, logger, defaultTtlMs: config.defaultTtlMs, durable: async () => { await persister.flush() } }
    const server = this.parts.server = createGrpcServer({
      registry: registryService(api),
      watch: watchOpener(api),
      cluster: clusterService({ nodeId: this.id, name: init.name, members: { all: () => membership.table.all() }, registry, health, logger }),
      health: healthService.handlers()
    })
    // persisted records are back before the first call is served: a Heartbeat right after a restart must find them
    owner.restore(await dir.records.load())
    this.grpcAddress = `${advertised(init.grpcHost)}:${await bind(server, init.grpcHost, init.grpcPort)}`
    const piggyback = {
      local: () => ({ vh: registry.vectorHash() }),
      remote: (peer: PeerId, p: Record<string, unknown>) => { if (typeof p.vh === 'string') replicator.observe(peer, p.vh) }
    }
    const membership: Membership = this.parts.membership = new Membership({ host, logger: logger.child({ c: 'membership' }), piggyback, faults: this.faults }, {
      self: { id: this.id, name: init.name, grpcAddress: this.grpcAddress, gossipAddress: this.gossipAddress, state: 'ALIVE', incarnation },
      cluster: init.cluster,
      seeds: init.seeds,
      config
    })
    membership.table.subscribe(c => { this.memberChanged(c, logger) })
    await replicator.start()
    await membership.start()
    owner.start()
    health.start()
    this.parts.reaper = setInterval(() => { this.reap() }, Math.min(1000, config.ownerReapMs / 4)).unref()
    this.parts.reclaimer = new MemoryReclaimer({ activity: () => registry.version }).start()
    logger.info({ grpc: this.grpcAddress, gossip: this.gossipAddress, incarnation, cluster: init.cluster }, 'node started')
  }

  private watchHub (registry: Registry, replicator: Replicator, logger: Logger): WatchHub {
    this.parts.watchHub = new WatchHub({ registry, logger: logger.child({ c: 'watch' }), requestCatchUp: () => { replicator.syncNow() } },
      { queueMax: this.init.config.watchQueueMax, catchUpMs: this.init.config.watchCatchUpMs })
    return this.parts.watchHub
  }

  // Folds membership into the view (owner-liveness.ts): DEAD owners' records go CRITICAL, LEFT ones go.
  private memberChanged ({ member, previous }: MemberChange, logger: Logger): void {
    if (previous?.state !== member.state) logger.info({ member: member.name, peer: member.id.slice(-8), state: member.state, incarnation: member.incarnation }, 'member state changed')
    if (member.id === this.id) return
    const { registry, replicator } = this.parts
    const step = ownerStep(member, previous, registry?.livenessOf(member.id))
    if (step.set != null) registry?.setLiveness(member.id, step.set)
    if (step.pull == null) return
    if (replicator == null) {
      if (step.pull === 'then-alive') registry?.setLiveness(member.id, 'alive')
      return
    }
    const peer = peerIdFromString(member.id)
    if (step.pull === 'if-idle') {
      replicator.syncIfIdle(peer)
    } else if (step.pull === 'now') {
      void replicator.syncWith(peer)
    } else {
      void replicator.syncWith(peer).finally(() => {
        // unless it went down again meanwhile
        const now = this.parts.membership?.table.get(member.id)
        if (now != null && now.state !== 'DEAD' && now.state !== 'LEFT') registry?.setLiveness(member.id, 'alive')
      })
    }
  }

  // Drops the records of owners DEAD for longer than ownerReapMs, old tombstones, and gone owners membership forgot.
  private reap (): void {
    const { membership, registry } = this.parts
    if (membership == null || registry == null) return
    for (const m of membership.table.all()) {
      if (m.state === 'DEAD' && membership.table.timeInState(m.id) >= this.init.config.ownerReapMs) registry.setLiveness(m.id, 'gone')
    }
    registry.prune(this.init.config.tombstoneRetentionMs, this.init.config.maxTombstonesPerOwner)
    registry.dropGoneOwners(id => membership.table.get(id) != null)
    this.parts.healthChecks?.sweep()
  }
}

// a wildcard bind is not an address others can dial: advertise the host name instead
function advertised (host: string): string {
  return host === '0.0.0.0' || host === '::' ? hostname() : host
}

function boundPort (host: Host): number {
  for (const ma of host.getMultiaddrs()) {
    const port = ma.toOptions().port
    if (port > 0) return port
  }
  throw new Error('libp2p is not listening on TCP')
}
