/**
 * The gRPC check (Consul's): grpc.health.v1.Health/Check over an insecure
 * channel. SERVING passes; NOT_SERVING, any other status and any error fail.
 * Channels are reused per target, as a gRPC client would, so a check costs a
 * request rather than a TCP and HTTP/2 handshake each interval.
 */
import * as grpc from '@grpc/grpc-js'
import { serviceClients } from '../../api/protos.js'
import { deadline, hostPort } from './checker.js'
import type { Checker, CheckResult, CheckTarget, Deadline } from './checker.js'

/** Options of {@link GrpcClientPool}. */
export interface GrpcClientPoolInit {
  /**
   * Channels kept at most; the least recently used is closed beyond it.
   * Default 128. Higher saves handshakes when one owner checks many gRPC
   * instances; each channel holds a socket and a little memory.
   */
  maxClients?: number
  /** A channel unused this long is closed. Default 60000: several intervals of the default 10 s. */
  idleMs?: number
}

// One attempt per run: a retried check would hide a flaky instance.
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.enable_retries': 0 }
// The channel itself is suspect after these: the next run starts a fresh one rather than wait out grpc-js' reconnect backoff.
const EVICT_ON = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED])

interface Entry {
  readonly key: string
  readonly client: grpc.Client
  lastUsedMs: number
  /** runs using the client now: it is never closed under them */
  inFlight: number
}

/** A pooled client, held for one run. */
export interface GrpcLease {
  readonly client: grpc.Client
  /** Returns the client; `condemned` closes its channel so the next run starts afresh. */
  release: (condemned: boolean) => void
}

/**
 * A small LRU of Health clients, one per `address:port`, closed after idle.
 * A client in use is never closed: under more concurrent targets than
 * `maxClients` the pool grows for a moment and shrinks as runs finish.
 */
export class GrpcClientPool {
  // Map order is use order: a used entry is re-inserted at the end.
  private readonly entries = new Map<string, Entry>()
  private readonly maxClients: number
  private readonly idleMs: number
  private sweeper: NodeJS.Timeout | undefined

  constructor (init: GrpcClientPoolInit = {}) {
    this.maxClients = Math.max(1, init.maxClients ?? 128)
    this.idleMs = Math.max(1, init.idleMs ?? 60_000)
  }

  /** Channels open now. */
  get size (): number {
    return this.entries.size
  }

  /** The client for `target`, created on first use; release it when the run is over. */
  acquire (target: CheckTarget): GrpcLease {
    const key = hostPort(target)
    let entry = this.entries.get(key)
    if (entry != null) {
      this.entries.delete(key)
    } else {
      const Health = serviceClients().Health
      entry = { key, client: new Health(key, grpc.credentials.createInsecure(), CHANNEL_OPTIONS), lastUsedMs: 0, inFlight: 0 }
    }
    const e = entry
    e.inFlight++
    e.lastUsedMs = performance.now()
    this.entries.set(key, e)
    this.trim()
    this.armSweeper()
    let released = false
    return {
      client: e.client,
      release: (condemned) => {
        if (released) return
        released = true
        e.inFlight--
        e.lastUsedMs = performance.now()
        if (condemned && this.entries.get(key) === e) this.entries.delete(key)
        // Closed once no run uses it: dropped from the map by eviction, idle or condemnation.
        if (e.inFlight === 0 && this.entries.get(key) !== e) e.client.close()
        this.trim()
      }
    }
  }

  /** Closes every channel; the pool stays usable. Runs in flight fail. */
  close (): void {
    for (const e of this.entries.values()) e.client.close()
    this.entries.clear()
    this.disarmSweeper()
  }

  // Least recently used first; entries in use are passed over.
  private trim (): void {
    for (const [key, e] of this.entries) {
      if (this.entries.size <= this.maxClients) return
      if (e.inFlight > 0) continue
      this.entries.delete(key)
      e.client.close()
    }
  }

  // One timer for the whole pool, and none while it is empty.
  private armSweeper (): void {
    if (this.sweeper != null) return
    this.sweeper = setInterval(() => { this.sweep() }, Math.max(10, Math.floor(this.idleMs / 2)))
    this.sweeper.unref()
  }

  private disarmSweeper (): void {
    clearInterval(this.sweeper)
    this.sweeper = undefined
  }

  private sweep (): void {
    const cutoff = performance.now() - this.idleMs
    for (const [key, e] of this.entries) {
      if (e.inFlight > 0 || e.lastUsedMs > cutoff) continue
      this.entries.delete(key)
      e.client.close()
    }
    if (this.entries.size === 0) this.disarmSweeper()
  }
}

/** A gRPC checker over `pool`; never throws. */
export function createGrpcCheck (pool: GrpcClientPool): Checker {
  return async (target, spec, signal) => {
    const service = spec.grpc?.service ?? ''
    const prefix = `gRPC check ${hostPort(target)} service ${JSON.stringify(service)}`
    const d = deadline(signal, spec.timeoutMs)
    let lease: GrpcLease | undefined
    let condemned = true
    try {
      lease = pool.acquire(target)
      const answer = await check(lease.client, service, spec.timeoutMs, d, prefix)
      condemned = answer.condemned
      return answer.result
    } catch (err) {
      return { ok: false, output: `${prefix}: ${err instanceof Error ? err.message : String(err)}` }
    } finally {
      lease?.release(condemned)
      d.dispose()
    }
  }
}

/** One Check call; `condemned` when the error says the channel, not the service, is the problem. */
function check (client: grpc.Client, service: string, timeoutMs: number, d: Deadline,
  prefix: string): Promise<{ result: CheckResult, condemned: boolean }> {
  return new Promise((resolve) => {
    if (d.signal.aborted) {
      resolve({ result: { ok: false, output: `${prefix}: ${d.reason()}` }, condemned: false })
      return
    }
    const onAbort = (): void => { call.cancel() }
    const options: grpc.CallOptions = { deadline: Date.now() + timeoutMs }
    // Methods of a loaded service client are not typed.
    const call: grpc.ClientUnaryCall = (client as any).Check({ service }, options, (err: grpc.ServiceError | null, res: any) => {
      d.signal.removeEventListener('abort', onAbort)
      if (err != null) {
        const why = d.signal.aborted ? d.reason() : `${grpc.status[err.code] ?? err.code}: ${err.details}`
        resolve({ result: { ok: false, output: `${prefix}: ${why}` }, condemned: EVICT_ON.has(err.code) })
        return
      }
      const status = String(res?.status ?? 'UNKNOWN')
      resolve({ result: { ok: status === 'SERVING', output: `${prefix}: ${status}` }, condemned: false })
    })
    d.signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** The shared pool behind {@link grpcCheck}; its timers are unref()ed. */
export const defaultGrpcPool = new GrpcClientPool()

/** The gRPC checker on {@link defaultGrpcPool}; never throws. */
export const grpcCheck: Checker = createGrpcCheck(defaultGrpcPool)
