import { pino } from 'pino'
import type { Logger } from 'pino'
import { createConfig } from '../../node/config.js'
import type { NodeConfig, ProfileName } from '../../node/config.js'
import { seededRandom } from '../../node/membership/clock.js'
import type { Random } from '../../node/membership/clock.js'
import type { Member } from '../../node/membership/member-table.js'
import { Swim } from '../../node/membership/swim.js'
import { FakeClock } from './fake-clock.js'
import type { Life, MemberEvent, ObserverRef } from './invariants.js'
import { MemoryNetwork } from './memory-network.js'
import type { Endpoint, NetworkOptions } from './memory-network.js'
import { ProcessClock } from './process-clock.js'

/** One simulated cluster. */
export interface SimOptions {
  /** everything random (latency, loss, probe order, the scenario's choices) follows from it */
  readonly seed: number
  readonly members: number
  readonly profile: ProfileName
  readonly network?: Partial<NetworkOptions>
  /**
   * Members announce their own verdicts over a gossip channel, as production
   * does over gossipsub (default true). Off, dissemination is SWIM's
   * piggybacking and anti-entropy alone.
   */
  readonly gossip?: boolean
  /** pino level of the members' logs, printed to stderr with virtual time `vt` (default: errors only, kept) */
  readonly logLevel?: string
}

interface Proc {
  readonly gen: number
  /** the incarnation it started with (what its data dir recorded) */
  readonly startedInc: number
  readonly swim: Swim
  readonly clock: ProcessClock
  /** the current stretch of its life (a SIGCONT starts a new one) */
  life: Life
}

// independent streams drawn from the one seed, so a change in one part does not reshuffle the others
const STREAM_NETWORK = 1
const STREAM_SCENARIO = 2
const STREAM_MEMBER = 3

/** Mixes a seed with stream numbers into a new 32-bit seed (murmur3's finaliser). */
export function deriveSeed (seed: number, ...salt: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0
  for (const s of salt) {
    h = Math.imul(h ^ (s >>> 0), 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
  }
  return h >>> 0
}

/** The gossip address of simulated member `id` (ids are `m0` … `m{n-1}`). */
export function addressOf (id: string): string {
  return `${id}:7001`
}

/**
 * A seeded cluster of SWIM cores on a MemoryNetwork and a FakeClock. Every
 * member starts with seeds = [m0's address]. Every change in every
 * member's table is recorded with its virtual time, for the invariants.
 */
export class Simulation {
  readonly clock = new FakeClock()
  readonly config: NodeConfig
  readonly network: MemoryNetwork
  /** every table change of every process, in time order */
  readonly events: MemberEvent[] = []
  /** every process that ever ran */
  readonly lives: Life[] = []
  /** the scenario's own choices (victims, partition sides) */
  readonly random: Random
  readonly ids: readonly string[]
  private readonly procs = new Map<string, Proc>()
  private readonly errors: string[] = []
  private readonly logger: Logger

  constructor (readonly options: SimOptions) {
    this.config = createConfig(options.profile)
    this.network = new MemoryNetwork(this.clock, seededRandom(deriveSeed(options.seed, STREAM_NETWORK)), options.network)
    this.random = seededRandom(deriveSeed(options.seed, STREAM_SCENARIO))
    this.ids = Array.from({ length: options.members }, (_, i) => `m${i}`)
    const verbose = options.logLevel != null && options.logLevel !== 'silent'
    this.logger = pino({ level: verbose ? options.logLevel : 'error', base: null, timestamp: () => `,"vt":${this.clock.now()}` }, {
      write: (line: string) => {
        if (verbose) process.stderr.write(line)
        const o = JSON.parse(line) as { level: number, msg?: string, nodeId?: string, err?: { message?: string } }
        if (o.level >= 50) this.errors.push(`${o.nodeId ?? '?'} logged an error: ${o.msg ?? ''} ${o.err?.message ?? ''}`)
      }
    })
  }

  /** Virtual now, in ms. */
  get now (): number {
    return this.clock.now()
  }

  /** Starts the members: m0 at once, the others at seeded moments within `spreadMs`. */
  start (spreadMs = this.config.probeIntervalMs): void {
    this.ids.forEach((id, i) => {
      const at = i === 0 ? 0 : this.random.next() * spreadMs
      this.clock.setTimeout(() => { this.spawn(id, 0, 0) }, at)
    })
  }

  /** Lets `ms` of virtual time pass. */
  async run (ms: number): Promise<void> {
    await this.clock.runFor(ms)
  }

  /**
   * Runs until `done()` holds, checking every `stepMs`, for at most `maxMs`.
   * Returns the virtual time it first held at a check, or undefined.
   */
  async runUntil (done: () => boolean, maxMs: number, stepMs = this.config.probeIntervalMs / 10): Promise<number | undefined> {
    const deadline = this.now + maxMs
    for (;;) {
      if (done()) return this.now
      if (this.now >= deadline) return undefined
      await this.run(Math.min(stepMs, deadline - this.now))
    }
  }

  /** The core of member `id`'s current process. */
  swim (id: string): Swim {
    return this.proc(id).swim
  }

  /** The current process of member `id`. */
  life (id: string): Life {
    return this.proc(id).life
  }

  /** Ids whose process runs (paused ones included, stopped by `sigstop` not). */
  live (): string[] {
    return this.ids.filter(id => {
      const p = this.procs.get(id)
      return p != null && p.clock.state !== 'crashed' && p.life.to === undefined
    })
  }

  /** The running processes, as observers for the invariants. */
  observers (): ObserverRef[] {
    return this.live().map(id => ({ id, gen: this.proc(id).gen }))
  }

  /** True when every member in `ids` holds every member in `ids` ALIVE. */
  allAlive (ids: readonly string[] = this.live()): boolean {
    return ids.every(o => {
      const table = this.swim(o).table
      return ids.every(s => table.get(s)?.state === 'ALIVE')
    })
  }

  /** Kills member `id`'s process (SIGKILL): its address now refuses. */
  crash (id: string): void {
    const p = this.proc(id)
    if (p.clock.state === 'crashed') return
    this.network.crash(addressOf(id))
    p.life.to = this.now
  }

  /**
   * Starts a new process for `id` on the same address, one incarnation above
   * the last one's start, as the data dir counts them (data-dir.ts): the
   * refutations of the last run are not recorded, so after some the new
   * start is below what the cluster holds.
   */
  restart (id: string): void {
    const p = this.proc(id)
    this.crash(id)
    this.spawn(id, p.gen + 1, p.startedInc + 1)
  }

  /**
   * Stops member `id` until `cont` (SIGSTOP held as long as a failure
   * detector needs): nothing refuses, only probes time out. Judged as failed
   * meanwhile, so its DEAD verdict is correct.
   */
  sigstop (id: string): void {
    const p = this.proc(id)
    p.clock.pause()
    p.life.to = this.now
  }

  /** Resumes a member stopped by `sigstop`: the same process, judged from its refutation's incarnation on. */
  sigcont (id: string): void {
    const p = this.proc(id)
    p.clock.resume()
    p.life = { id, gen: p.gen, startInc: p.swim.me.incarnation + 1, from: this.now }
    this.lives.push(p.life)
  }

  /** Freezes member `id` for `ms` (SIGSTOP, later SIGCONT): it is still live. */
  pause (id: string, ms: number): void {
    this.network.pause(addressOf(id), ms)
  }

  /** Member `id` leaves gracefully, then its process exits. */
  leave (id: string, timeoutMs = this.config.probeTimeoutMs): void {
    void this.swim(id).leave(timeoutMs).then(() => { this.crash(id) })
  }

  /** Cuts the cluster into groups of ids. */
  partition (groups: ReadonlyArray<readonly string[]>): void {
    this.network.partition(groups)
  }

  /** Ends the partition. */
  heal (): void {
    this.network.heal()
  }

  /** What must never happen whatever the scenario: a handler that threw, an error logged by a core. */
  failures (): string[] {
    return [...this.network.errors, ...this.errors]
  }

  /** Stops every core, so nothing is left scheduled. */
  stop (): void {
    for (const p of this.procs.values()) p.swim.stop()
  }

  private proc (id: string): Proc {
    const p = this.procs.get(id)
    if (p == null) throw new Error(`${id} has not started`)
    return p
  }

  private spawn (id: string, gen: number, incarnation: number): void {
    const clock = new ProcessClock(this.clock)
    const address = addressOf(id)
    const self: Member = { id, name: id, grpcAddress: `${id}:7000`, gossipAddress: address, state: 'ALIVE', incarnation }
    // the endpoint needs the core and the core its transport: the handlers look the core up late
    let swim: Swim | undefined
    const core = (): Swim => swim as Swim
    const endpoint: Endpoint = {
      id,
      address,
      clock,
      handle: async (fromId, raw) => await core().handle(fromId, raw),
      merge: (fromId, members) => { core().mergeTable(members, fromId) }
    }
    const index = Number(id.slice(1))
    swim = new Swim({
      clock,
      random: seededRandom(deriveSeed(this.options.seed, STREAM_MEMBER, index, gen)),
      transport: this.network.transportFor(endpoint),
      logger: this.logger.child({ nodeId: id }),
      announce: this.options.gossip === false ? undefined : m => { this.network.gossip(endpoint, [m]) }
    }, { self, seeds: [addressOf('m0')], config: this.config })
    const record = (m: Member): void => {
      this.events.push({ t: this.now, observer: id, gen, subject: m.id, state: m.state, incarnation: m.incarnation })
    }
    record(self)
    swim.table.subscribe(c => { record(c.member) })
    const life: Life = { id, gen, startInc: incarnation, from: this.now }
    this.lives.push(life)
    this.procs.set(id, { gen, startedInc: incarnation, swim, clock, life })
    this.network.attach(endpoint)
    swim.start()
  }
}
