import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { seededRandom, shuffle } from '../../node/membership/clock.js'
import type { Random } from '../../node/membership/clock.js'
import type { Caller } from './calls.js'
import type { History } from './history.js'

/** Options of {@link Workload}. */
export interface WorkloadOptions {
  readonly seed: number
  readonly nodes: number
  readonly instances: number
  readonly services: readonly string[]
  readonly ttlMs: number
  /** wall-clock window in which clients deregister, re-register and stop for good */
  readonly churnFrom: number
  readonly churnUntil: number
  /** deadline of every Register, Heartbeat and Deregister; default 2000 */
  readonly callDeadlineMs?: number
}

/** What one simulated client does besides heartbeating. */
type Fate =
  | { readonly kind: 'steady' }
  /** stops heartbeating for good at `at`: its instance must expire */
  | { readonly kind: 'stop', readonly at: number }
  /** deregisters at each of `at`, then registers again (a new life) after `gapMs` */
  | { readonly kind: 'cycle', readonly at: readonly number[], readonly gapMs: number }

/**
 * Simulated service instances: each registers with a random node, heartbeats
 * every ttl/3, fails over to another node when its node stops answering
 * (registering again there), registers again on NOT_FOUND, and, as its seeded
 * fate says, deregisters and comes back, or stops for good. Every call has
 * a deadline and every loop ends with `stop()`.
 */
export class Workload {
  private readonly abort = new AbortController()
  private readonly loops: Array<Promise<void>> = []
  private readonly clients: SimClient[]
  private settled = false

  constructor (private readonly caller: Caller, private readonly history: History, private readonly opts: WorkloadOptions) {
    // every client's pauses listen on the one signal
    setMaxListeners(opts.instances + 10, this.abort.signal)
    const plan = seededRandom(opts.seed ^ 0x5bd1e995)
    this.clients = Array.from({ length: opts.instances }, (_, i) => {
      const service = opts.services[i % opts.services.length]
      return new SimClient(`${service}/i-${String(i).padStart(4, '0')}`, 20_000 + i, fateOf(plan, opts), seededRandom(opts.seed * 7919 + i), Math.floor(plan.next() * 3000))
    })
  }

  /** Counts of fates, for the run's header. */
  summary (): string {
    const n = (k: Fate['kind']): number => this.clients.filter(c => c.fate.kind === k).length
    return `${this.clients.length} instances over ${this.opts.services.length} services (ttl ${this.opts.ttlMs} ms): ${n('steady')} steady, ${n('cycle')} deregister and come back, ${n('stop')} stop for good`
  }

  /** Starts every client's loop. */
  start (): void {
    for (const c of this.clients) this.loops.push(this.runClient(c).catch(() => {}))
  }

  /** Stops every loop (no more calls after it resolves, except those in flight, which have deadlines). */
  async stop (): Promise<void> {
    this.abort.abort()
    await Promise.all(this.loops)
  }

  private get signal (): AbortSignal {
    return this.abort.signal
  }

  private async pause (ms: number): Promise<boolean> {
    if (this.signal.aborted) return false
    await sleep(ms, undefined, { signal: this.signal }).catch(() => {})
    return !this.signal.aborted
  }

  private async runClient (c: SimClient): Promise<void> {
    if (!await this.pause(c.startDelayMs)) return
    await this.beginLife(c, 1 + Math.floor(c.random.next() * this.opts.nodes))
    const every = Math.floor(this.opts.ttlMs / 3)
    const cycles = c.fate.kind === 'cycle' ? [...c.fate.at] : []
    while (await this.pause(every)) {
      const now = Date.now()
      if (c.fate.kind === 'stop' && now >= c.fate.at) {
        this.history.record({ kind: 'client', action: 'stop', key: c.key, life: c.life })
        return
      }
      if (c.fate.kind === 'cycle' && cycles.length > 0 && now >= cycles[0]) {
        cycles.shift()
        this.history.record({ kind: 'client', action: 'deregister', key: c.key, life: c.life })
        if (c.node !== undefined) await this.caller.deregister(c.node, c.key, c.life, this.deadline)
        if (!await this.pause(c.fate.gapMs)) return
        await this.beginLife(c, 1 + Math.floor(c.random.next() * this.opts.nodes))
        continue
      }
      await this.heartbeat(c)
    }
  }

  private get deadline (): number {
    return this.opts.callDeadlineMs ?? 2000
  }

  /**
   * From now on a client whose node is slow keeps heartbeating it instead of
   * failing over (every node is up again): the final checks want a view
   * that only real faults change, not a busy machine.
   */
  settle (): void {
    this.settled = true
  }

  private async beginLife (c: SimClient, preferred: number): Promise<void> {
    c.life++
    c.node = undefined
    this.history.record({ kind: 'client', action: 'start', key: c.key, life: c.life })
    await this.registerSomewhere(c, preferred)
  }

  private async heartbeat (c: SimClient): Promise<void> {
    if (c.node === undefined) {
      await this.registerSomewhere(c, 1 + Math.floor(c.random.next() * this.opts.nodes))
      return
    }
    const r = await this.caller.heartbeat(c.node, c.key, c.life, this.deadline)
    if (r.ok) return
    // NOT_FOUND: the node no longer owns it (expired, or a restart lost it): register there again
    if (r.code === 'NOT_FOUND') {
      await this.registerSomewhere(c, c.node)
      return
    }
    // the node does not answer: fail over to another one
    if (!this.settled) await this.registerSomewhere(c, undefined, c.node)
  }

  /** Registers with `preferred` first, then the other nodes in random order, until one answers. */
  private async registerSomewhere (c: SimClient, preferred?: number, avoid?: number): Promise<void> {
    const others = shuffle(Array.from({ length: this.opts.nodes }, (_, k) => k + 1).filter(n => n !== preferred && n !== avoid), c.random)
    const order = [...(preferred !== undefined ? [preferred] : []), ...others, ...(avoid !== undefined ? [avoid] : [])]
    for (let attempt = 0; attempt < 20 && !this.signal.aborted; attempt++) {
      for (const n of order) {
        if (this.signal.aborted) return
        const r = await this.caller.register(n, c.key, c.life, c.port, this.opts.ttlMs, this.deadline)
        if (r.ok) {
          c.node = n
          return
        }
      }
      if (!await this.pause(300)) return
    }
    c.node = undefined
  }
}

class SimClient {
  life = 0
  node: number | undefined

  constructor (readonly key: string, readonly port: number, readonly fate: Fate, readonly random: Random, readonly startDelayMs: number) {}
}

function fateOf (r: Random, opts: WorkloadOptions): Fate {
  const span = opts.churnUntil - opts.churnFrom
  const x = r.next()
  // stops end early enough that their instances have expired before the final checks
  if (x < 0.15 && span > opts.ttlMs) return { kind: 'stop', at: opts.churnFrom + r.next() * (span - opts.ttlMs) }
  if (x < 0.4 && span > 9000) {
    const n = r.next() < 0.5 ? 1 : 2
    const at = Array.from({ length: n }, () => opts.churnFrom + r.next() * (span - 9000)).sort((a, b) => a - b)
    // a gap long enough for the old life to leave every node before the new one registers (so 3. can judge it)
    return { kind: 'cycle', at, gapMs: 2000 + r.next() * 5000 }
  }
  return { kind: 'steady' }
}
