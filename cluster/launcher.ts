import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, errorDetails, unary, type GrapevineClients, type WireMember, type WireStatus } from '../client/client.js'
import { portFree } from './free-ports.js'
import { waitFor } from './wait.js'
import { nodeRuntimeArgs } from '../node/runtime-flags.js'
import { parseHostPort } from '../node/cli/args.js'

/** Options of {@link LocalCluster}. */
export interface LocalClusterOptions {
  /** How many node processes, at least 1. */
  nodes: number
  /** Folder for data dirs (`n1/`...), logs (`n1.log`...) and `cluster.json`. */
  dir: string
  /** Node i listens on gRPC basePort + 2(i-1) and gossip basePort + 2(i-1) + 1. */
  basePort: number
  /** `--profile` of every node; default local. */
  profile?: string
  /** `--cluster` of every node; default local. */
  cluster?: string
  /** `--log-level` of every node; default info. */
  logLevel?: string
  /** Appended to every node's arguments. */
  extraArgs?: string[]
  /** Compiled CLI entry; default the repo's `dist/node/cli/main.js`. */
  entry?: string
  /** Called when a node process exits; `expected` is true when kill() or stop() caused it. */
  onExit?: (exit: NodeExit) => void
  /** TESTS ONLY: start nodes with `--fault-file`, so partition() and heal() work */
  faults?: boolean
}

/** One node of the cluster, as launched. */
export interface NodeInfo {
  readonly index: number
  readonly name: string
  /** "127.0.0.1:port" of its gRPC API */
  readonly grpc: string
  /** "127.0.0.1:port" of its gossip listener */
  readonly gossip: string
  readonly dataDir: string
  readonly logFile: string
  /** pid of the current (or last) process; undefined before start */
  readonly pid: number | undefined
  /** arguments after process.execPath, the same on every restart */
  readonly args: readonly string[]
  /** libp2p peer id from Cluster.Status, once known */
  readonly nodeId: string | undefined
  readonly running: boolean
}

/** How a node process ended. */
export interface NodeExit {
  readonly index: number
  readonly name: string
  readonly pid: number | undefined
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly expected: boolean
}

/** Signals kill() accepts. */
export type NodeSignal = 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'

interface Slot {
  readonly info: Omit<NodeInfo, 'pid' | 'nodeId' | 'running'>
  child?: ChildProcess
  exited?: Promise<void>
  running: boolean
  expectExit: boolean
  nodeId?: string
  clients?: GrapevineClients
  /** what this node's fault file says (tests only) */
  readonly faults: { blocked: string[], loss: number, delayMs: number }
}

// restarted nodes come back on the same port: retry the channel quickly rather than back off for minutes
const CHANNEL_OPTIONS = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000, 'grpc.use_local_subchannel_pool': 1 }
const POLL_DEADLINE_MS = 1000
const STOP_GRACE_MS = 5000

/**
 * N grapevine nodes as separate OS processes on 127.0.0.1, each joined to
 * all the others, for e2e tests and `grapevine cluster up`. Only ever
 * signals the processes it spawned.
 */
export class LocalCluster {
  private readonly slots: Slot[]
  private readonly dir: string
  private readonly onExit?: (exit: NodeExit) => void
  private starting?: Promise<void>
  private stopping?: Promise<void>
  // last resort if the owner dies without stop(): do not leave orphans holding the ports
  private readonly killAllSync = (): void => {
    for (const s of this.slots) if (s.running) s.child?.kill('SIGKILL')
  }

  constructor (options: LocalClusterOptions) {
    const { nodes, dir, basePort, profile = 'local', cluster = 'local', logLevel = 'info', extraArgs = [] } = options
    if (!Number.isInteger(nodes) || nodes < 1) throw new RangeError(`nodes must be an integer >= 1, got ${nodes}`)
    if (!Number.isInteger(basePort) || basePort < 1 || basePort + 2 * nodes - 1 > 65_535) {
      throw new RangeError(`basePort ${basePort} leaves no room for ${nodes} nodes (2 ports each)`)
    }
    this.dir = path.resolve(dir)
    this.onExit = options.onExit
    const entry = options.entry ?? defaultEntry()
    const gossipOf = (i: number): string => `127.0.0.1:${basePort + 2 * (i - 1) + 1}`
    this.slots = Array.from({ length: nodes }, (_, k) => {
      const index = k + 1
      const name = `n${index}`
      const grpc = `127.0.0.1:${basePort + 2 * k}`
      const gossip = gossipOf(index)
      const dataDir = path.join(this.dir, name)
      const join = Array.from({ length: nodes }, (_, j) => j + 1).filter(j => j !== index).map(gossipOf).join(',')
      const args = [
        entry, 'node', '--name', name, '--data-dir', dataDir, '--grpc', grpc, '--gossip', gossip,
        // a lone node has no seeds; --join '' would be the same, but is awkward to read in `ps`
        ...(join !== '' ? ['--join', join] : []),
        '--cluster', cluster, '--profile', profile, '--log-level', logLevel,
        ...(options.faults === true ? ['--fault-file', this.faultFile(name)] : []), ...extraArgs
      ]
      return { info: { index, name, grpc, gossip, dataDir, logFile: path.join(this.dir, `${name}.log`), args }, running: false, expectExit: false, faults: { blocked: [], loss: 0, delayMs: 0 } }
    })
  }

  /**
   * Partitions the cluster (nodes started with `faults: true`): each node
   * drops membership and registry traffic with every node outside its group.
   * Groups hold 1-based node indexes; nodes in no group are cut off from all.
   */
  partition (groups: number[][]): void {
    const groupOf = new Map<number, number>()
    groups.forEach((g, k) => { for (const i of g) groupOf.set(i, k) })
    for (const s of this.slots) {
      const mine = groupOf.get(s.info.index)
      s.faults.blocked = this.slots.filter(o => o !== s && (mine === undefined || groupOf.get(o.info.index) !== mine)).map(o => o.nodeId ?? '')
      this.writeFaults(s)
    }
  }

  /** Ends a partition: every node talks to every other again (loss and delay stay). */
  heal (): void {
    for (const s of this.slots) {
      s.faults.blocked = []
      this.writeFaults(s)
    }
  }

  /** Drops (`loss`, 0-1) and delays (`delayMs`) incoming gossip and membership messages at node i; zeros end it. */
  degrade (i: number, loss: number, delayMs: number): void {
    const s = this.slot(i)
    s.faults.loss = loss
    s.faults.delayMs = delayMs
    this.writeFaults(s)
  }

  private writeFaults (s: Slot): void {
    const file = this.faultFile(s.info.name)
    mkdirSync(path.dirname(file), { recursive: true })
    const lines = [...s.faults.blocked]
    if (s.faults.loss > 0) lines.push(`loss ${s.faults.loss}`)
    if (s.faults.delayMs > 0) lines.push(`delay ${s.faults.delayMs}`)
    writeFileSync(file, lines.join('\n') + '\n')
  }

  private faultFile (name: string): string {
    return path.join(this.dir, 'faults', name)
  }

  /** Number of nodes. */
  get size (): number {
    return this.slots.length
  }

  /** Path of `cluster.json`, written once start() succeeds. */
  get clusterFile (): string {
    return path.join(this.dir, 'cluster.json')
  }

  /**
   * Spawns every node, waits until every node sees every node ALIVE, then
   * writes cluster.json. A failed start stops what it started and rethrows.
   * Calling it again returns the same promise.
   */
  async start (options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopping !== undefined) throw new Error('cluster was stopped; create a new LocalCluster')
    this.starting ??= this.startAll(options.timeoutMs ?? 30_000)
    await this.starting
  }

  private async startAll (timeoutMs: number): Promise<void> {
    mkdirSync(this.dir, { recursive: true })
    // a port in use is refused before anything starts: another cluster's node on it (a second
    // `cluster up` of the same dir) answered the readiness poll, and its ready line was false
    const taken: string[] = []
    for (const s of this.slots) {
      for (const address of [s.info.grpc, s.info.gossip]) {
        const { host, port } = parseHostPort(address, s.info.name)
        if (!await portFree(port, host)) taken.push(`${s.info.name} ${address}`)
      }
    }
    if (taken.length > 0) throw new Error(`ports in use (another cluster running?): ${taken.join(', ')}`)
    process.on('exit', this.killAllSync)
    try {
      for (const s of this.slots) this.spawn(s)
      await this.waitAllAlive(timeoutMs)
      for (const s of this.slots) {
        const status = await unary<WireStatus>(this.clients(s.info.index).cluster, 'Status', {}, { deadlineMs: POLL_DEADLINE_MS })
        s.nodeId = status.node_id
      }
      this.writeClusterFile()
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  /**
   * Waits until every node answers Cluster.Members with every node ALIVE.
   * Fails at once if a node is not running or exits meanwhile; on timeout the
   * error lists what each node last saw.
   */
  async waitAllAlive (timeoutMs = 30_000): Promise<void> {
    const down = this.slots.filter(s => !s.running).map(s => s.info.name)
    if (down.length > 0) throw new Error(`cannot wait for all ALIVE: ${down.join(', ')} not running`)
    const names = this.slots.map(s => s.info.name)
    let views: string[] = []
    const watch = this.abortOnExit(this.slots)
    try {
      await waitFor(async () => {
        const seen = await Promise.all(this.slots.map(async s => await this.membersView(s, names)))
        views = seen.map(v => v.text)
        return seen.every(v => v.allAlive)
      }, {
        timeoutMs,
        intervalMs: 200,
        signal: watch.signal,
        message: () => `every node to see ${names.join(', ')} ALIVE; last seen: ${views.join('; ')}`
      })
    } finally {
      watch.dispose()
    }
  }

  /**
   * Sends `signal` to node i's process. For SIGKILL and SIGTERM resolves once
   * the exit is observed (a node already gone resolves at once); SIGSTOP and
   * SIGCONT need a running node.
   */
  async kill (i: number, signal: NodeSignal = 'SIGKILL', options: { timeoutMs?: number } = {}): Promise<void> {
    const s = this.slot(i)
    const ends = signal === 'SIGKILL' || signal === 'SIGTERM'
    if (!s.running) {
      if (ends) return
      throw new Error(`${s.info.name} is not running; cannot send ${signal}`)
    }
    if (ends) s.expectExit = true
    s.child?.kill(signal)
    if (!ends) return
    const timeoutMs = options.timeoutMs ?? 10_000
    await waitFor(() => !s.running, { timeoutMs, intervalMs: 20, message: `${s.info.name} (pid ${s.child?.pid}) to exit after ${signal}` })
  }

  /**
   * Spawns node i again with the same arguments and data dir; resolves when
   * its Cluster.Status answers. The node must not be running.
   */
  async restart (i: number, options: { timeoutMs?: number } = {}): Promise<void> {
    const s = this.slot(i)
    if (this.stopping !== undefined) throw new Error('cluster was stopped')
    if (s.running) throw new Error(`${s.info.name} is still running (pid ${s.child?.pid}); kill it first`)
    s.clients?.close()
    s.clients = undefined
    this.spawn(s)
    const watch = this.abortOnExit([s])
    try {
      const status = await waitFor(async () => await unary<WireStatus>(this.clients(i).cluster, 'Status', {}, { deadlineMs: POLL_DEADLINE_MS }), {
        timeoutMs: options.timeoutMs ?? 30_000,
        intervalMs: 100,
        signal: watch.signal,
        message: `${s.info.name} to answer Cluster.Status after restart`
      })
      s.nodeId = status.node_id
    } finally {
      watch.dispose()
    }
    this.writeClusterFile()
  }

  /** Node i (1-based). */
  node (i: number): NodeInfo {
    const s = this.slot(i)
    return { ...s.info, pid: s.child?.pid, nodeId: s.nodeId, running: s.running }
  }

  /** Every node, in order. */
  nodes (): NodeInfo[] {
    return this.slots.map(s => this.node(s.info.index))
  }

  /** gRPC clients of node i, kept open until stop() (or restart of that node). Do not close them. */
  clients (i: number): GrapevineClients {
    const s = this.slot(i)
    s.clients ??= connect(s.info.grpc, CHANNEL_OPTIONS)
    return s.clients
  }

  /** SIGTERM every running node, SIGKILL those still up after 5 s, close clients. Idempotent. */
  async stop (): Promise<void> {
    this.stopping ??= this.stopAll()
    await this.stopping
  }

  private async stopAll (): Promise<void> {
    const live = this.slots.filter(s => s.running)
    for (const s of live) {
      s.expectExit = true
      // a SIGSTOPped node would never act on SIGTERM
      s.child?.kill('SIGCONT')
      s.child?.kill('SIGTERM')
    }
    const allExited = Promise.all(live.map(async s => await s.exited))
    const grace = new AbortController()
    const inTime = await Promise.race([
      allExited.then(() => true),
      new Promise<boolean>(resolve => {
        const timer = setTimeout(() => { resolve(false) }, STOP_GRACE_MS)
        grace.signal.addEventListener('abort', () => { clearTimeout(timer) })
      })
    ])
    grace.abort()
    if (!inTime) {
      for (const s of live) if (s.running) s.child?.kill('SIGKILL')
      await allExited
    }
    for (const s of this.slots) {
      s.clients?.close()
      s.clients = undefined
    }
    process.off('exit', this.killAllSync)
  }

  private slot (i: number): Slot {
    const s = this.slots[i - 1]
    if (!Number.isInteger(i) || s === undefined) throw new RangeError(`node index ${i} is not in 1..${this.slots.length}`)
    return s
  }

  private spawn (s: Slot): void {
    mkdirSync(s.info.dataDir, { recursive: true })
    // the child writes the log itself, so the file is complete even if this process dies
    const fd = openSync(s.info.logFile, 'a')
    let child: ChildProcess
    try {
      child = spawn(process.execPath, [...nodeRuntimeArgs(), ...s.info.args], { stdio: ['ignore', fd, fd], env: process.env })
    } finally {
      closeSync(fd)
    }
    s.child = child
    s.running = true
    s.expectExit = false
    s.exited = new Promise<void>(resolve => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (!s.running || s.child !== child) return resolve()
        s.running = false
        resolve()
        this.onExit?.({ index: s.info.index, name: s.info.name, pid: child.pid, code, signal, expected: s.expectExit })
      }
      child.once('exit', done)
      // spawn failures emit 'error' and may never emit 'exit'
      child.once('error', () => { done(null, null) })
    })
  }

  private async membersView (s: Slot, names: string[]): Promise<{ allAlive: boolean, text: string }> {
    try {
      const res = await unary<{ members: WireMember[] }>(this.clients(s.info.index).cluster, 'Members', {}, { deadlineMs: POLL_DEADLINE_MS })
      const states = names.map(n => {
        // a node that lost its data dir comes back with a new id: any ALIVE entry of that name will do
        const entries = res.members.filter(m => m.name === n)
        return entries.find(m => m.state === 'ALIVE')?.state ?? entries[0]?.state ?? 'missing'
      })
      return {
        allAlive: states.every(st => st === 'ALIVE'),
        text: `${s.info.name} sees ${names.map((n, k) => `${n}=${states[k]}`).join(' ')}`
      }
    } catch (err) {
      return { allAlive: false, text: `${s.info.name}: ${errorDetails(err)}` }
    }
  }

  // aborts with a descriptive error (log tail included) when any of `slots` exits
  private abortOnExit (slots: Slot[]): { signal: AbortSignal, dispose: () => void } {
    const ac = new AbortController()
    const disposers = slots.map(s => {
      const child = s.child
      const listener = (code: number | null, signal: NodeJS.Signals | null): void => {
        ac.abort(new Error(`${s.info.name} (pid ${child?.pid}) exited with ${signal ?? `code ${code}`} while waiting; ${s.info.logFile} ends with:\n${logTail(s.info.logFile)}`))
      }
      child?.once('exit', listener)
      return () => { child?.off('exit', listener) }
    })
    return { signal: ac.signal, dispose: () => { for (const d of disposers) d() } }
  }

  private writeClusterFile (): void {
    const nodes = this.slots.map(s => ({
      name: s.info.name,
      node_id: s.nodeId ?? '',
      pid: s.child?.pid ?? null,
      grpc: s.info.grpc,
      gossip: s.info.gossip,
      data_dir: s.info.dataDir
    }))
    // write then rename, so a reader never sees half a file
    const tmp = `${this.clusterFile}.tmp`
    writeFileSync(tmp, JSON.stringify({ nodes }, null, 2) + '\n')
    renameSync(tmp, this.clusterFile)
  }
}

/** The compiled CLI, found from source (cluster/) and from dist (dist/cluster/). */
export function defaultEntry (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let k = 0; k < 4; k++) {
    const candidate = path.join(dir, 'dist', 'node', 'cli', 'main.js')
    if (existsSync(candidate)) return candidate
    dir = path.dirname(dir)
  }
  throw new Error('dist/node/cli/main.js not found; run `npm run build` first')
}

function logTail (file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}
