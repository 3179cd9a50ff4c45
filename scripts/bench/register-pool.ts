import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as grpc from '@grpc/grpc-js'
import { serviceClients } from '../../node/api/protos.js'
import { waitConverged } from './bench-util.js'
import type { RegisterJob, RegisterJobResult } from './register-worker.js'

const ID_WIDTH = 9

/** What every registered instance looks like (the id is `${idPrefix}${9 digits}`). */
export interface InstanceShape {
  readonly service: string
  readonly idPrefix: string
  readonly ttlSeconds: number
  /** a realistic record: address, port, protocol, version, two tags, two metadata pairs, zone */
  readonly address?: string
}

/** A load of `count` new instances on one node; ids from `first`. */
export interface LoadSpec {
  readonly addr: string
  readonly shape: InstanceShape
  readonly first: number
  readonly count: number
  readonly inFlight: number
  /** 0: until count is done; otherwise stop after this long */
  readonly seconds?: number
  readonly connections?: number
  /** attempts after a failed call (same id); default 8 */
  readonly retries?: number
}

/**
 * The serialized RegisterRequest for `shape`, with the offset of the digits
 * of its instance_id: the worker patches them per call, so every call is a
 * new instance and the request is encoded once.
 */
export function registerTemplate (shape: InstanceShape): { template: Buffer, idOffset: number } {
  const method = (serviceClients().Registry as any).service.Register
  const placeholder = `${shape.idPrefix}${'#'.repeat(ID_WIDTH)}`
  const template: Buffer = method.requestSerialize({
    instance: {
      service: shape.service,
      instance_id: placeholder,
      address: shape.address ?? '10.20.30.40',
      port: 8443,
      protocol: 'grpc',
      version: '1.14.2',
      tags: ['prod', 'canary'],
      metadata: { team: 'payments', build: '2026.11.23' },
      zone: 'eu-west-1a'
    },
    ttl_seconds: shape.ttlSeconds
  })
  const at = template.indexOf(placeholder, 0, 'latin1')
  if (at < 0 || template.indexOf(placeholder, at + 1, 'latin1') >= 0) throw new Error('cannot locate the instance_id in the template')
  return { template, idOffset: at + shape.idPrefix.length }
}

/** The instance_id the worker sends for call number n. */
export function instanceIdOf (shape: InstanceShape, n: number): string {
  return `${shape.idPrefix}${String(n).padStart(ID_WIDTH, '0')}`
}

/**
 * Forked Register load workers (register-worker.ts). The load comes from
 * other processes because on two cores a Node client spends about as much
 * CPU per call as the node does; several processes at least share it out.
 */
export class RegisterPool {
  private readonly workers: ChildProcess[] = []
  private seq = 0

  private constructor () {}

  static async start (size: number): Promise<RegisterPool> {
    const pool = new RegisterPool()
    const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'register-worker.js')
    // a pool must not outlive its parent, even when the parent dies without close()
    process.on('exit', () => { pool.killAll() })
    for (let k = 0; k < size; k++) {
      const w = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      pool.workers.push(w)
    }
    await Promise.all(pool.workers.map(async w => await new Promise<void>((resolve, reject) => {
      w.once('message', () => { resolve() })
      w.once('exit', code => { reject(new Error(`register worker exited with ${code} before it was ready`)) })
    })))
    return pool
  }

  get size (): number {
    return this.workers.length
  }

  get pids (): number[] {
    return this.workers.map(w => w.pid ?? -1)
  }

  /**
   * Runs loads on the workers, spreading them round robin (a worker runs its
   * share concurrently), and resolves with one result per load, in order.
   */
  async run (loads: readonly LoadSpec[], maxSeconds = 120): Promise<RegisterJobResult[]> {
    const method = (serviceClients().Registry as any).service.Register
    const perWorker: Array<Array<{ index: number, job: RegisterJob }>> = this.workers.map(() => [])
    loads.forEach((l, index) => {
      const { template, idOffset } = registerTemplate(l.shape)
      const job: RegisterJob = {
        addr: l.addr,
        path: method.path,
        template: template.toString('base64'),
        idOffset,
        idWidth: ID_WIDTH,
        first: l.first,
        count: l.count,
        seconds: l.seconds ?? 0,
        maxSeconds,
        inFlight: l.inFlight,
        connections: l.connections ?? 1,
        callTimeoutMs: 15_000,
        retries: l.retries ?? 8
      }
      perWorker[index % this.workers.length].push({ index, job })
    })
    const out: RegisterJobResult[] = new Array(loads.length)
    await Promise.all(this.workers.map(async (w, k) => {
      const mine = perWorker[k]
      if (mine.length === 0) return
      const id = ++this.seq
      const results = await new Promise<RegisterJobResult[]>((resolve, reject) => {
        const onMessage = (m: { id?: number, results?: RegisterJobResult[], error?: string }): void => {
          if (m.id !== id) return
          cleanup()
          if (m.results != null) resolve(m.results)
          else reject(new Error(`register worker failed: ${m.error ?? '?'}`))
        }
        const onExit = (code: number | null): void => {
          cleanup()
          reject(new Error(`register worker exited with ${code} during a run`))
        }
        // the worker stops on its own by maxSeconds; this is the backstop if it hangs
        const timer = setTimeout(() => { cleanup(); reject(new Error('register worker did not answer in time')) }, (maxSeconds + 30) * 1000)
        const cleanup = (): void => {
          clearTimeout(timer)
          w.off('message', onMessage)
          w.off('exit', onExit)
        }
        w.on('message', onMessage)
        w.once('exit', onExit)
        w.send({ cmd: 'run', id, jobs: mine.map(m => m.job) })
      })
      results.forEach((r, j) => { out[mine[j].index] = r })
    }))
    return out
  }

  /** Asks every worker to exit; kills those still there after a second. */
  async close (): Promise<void> {
    await Promise.all(this.workers.map(async w => {
      if (w.exitCode !== null || w.signalCode !== null) return
      const exited = new Promise<void>(resolve => { w.once('exit', () => { resolve() }) })
      try { w.send({ cmd: 'exit' }) } catch {}
      const timer = setTimeout(() => { w.kill('SIGKILL') }, 1000)
      await exited
      clearTimeout(timer)
    }))
  }

  private killAll (): void {
    for (const w of this.workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL')
  }
}

/** Sums results: calls done, errors, and the span from the first start to the last answer (ms). */
export function summarize (results: readonly RegisterJobResult[]): { ok: number, errors: number, retried: number, firstError?: string, spanMs: number, lastAnswerAt: number } {
  const ok = results.reduce((s, r) => s + r.ok, 0)
  const errors = results.reduce((s, r) => s + r.errors, 0)
  const retried = results.reduce((s, r) => s + r.retried, 0)
  const start = Math.min(...results.map(r => r.startedAt))
  const lastAnswerAt = Math.max(...results.map(r => r.lastAnswerAt))
  const firstError = results.find(r => r.firstError != null)?.firstError
  return { ok, errors, retried, ...(firstError != null ? { firstError } : {}), spanMs: lastAnswerAt - start, lastAnswerAt }
}

/** What {@link fillCluster} did. */
export interface FillResult {
  /** instances registered: `total`, or fewer when the time limit came first */
  readonly registered: number
  readonly seconds: number
  /** failed attempts that were sent again */
  readonly retried: number
  /** from the last Register answer until every digest agreed, ms */
  readonly convergeMs: number
  readonly digest: string
}

/**
 * Registers `total` new instances spread evenly over `addrs` (one load per
 * node, `inFlightPerNode` calls in flight each, ttl an hour: nothing
 * expires), for at most `maxSeconds`, then waits until every node in
 * `clusterClients` holds every registered instance (plus `base`) with one
 * digest. A failed call is retried with the same id; an id that fails every
 * attempt makes the count unknown, and this throws.
 */
export async function fillCluster (pool: RegisterPool, addrs: readonly string[], clusterClients: readonly grpc.Client[],
  o: { total: number, inFlightPerNode: number, service: string, base?: number, maxSeconds?: number, convergeTimeoutMs?: number }): Promise<FillResult> {
  const per = Math.floor(o.total / addrs.length)
  const loads: LoadSpec[] = addrs.map((addr, k) => ({
    addr,
    shape: { service: o.service, idPrefix: `n${k + 1}-`, ttlSeconds: 3600, address: `10.${k + 1}.0.1` },
    first: 0,
    count: per + (k < o.total % addrs.length ? 1 : 0),
    inFlight: o.inFlightPerNode
  }))
  const r = summarize(await pool.run(loads, o.maxSeconds ?? 300))
  if (r.errors > 0) throw new Error(`${r.errors} Register calls failed after retries (first: ${r.firstError ?? '?'})`)
  if (r.ok < o.total) console.log(`note: the time limit (${o.maxSeconds ?? 300} s) stopped the load at ${r.ok} of ${o.total} instances`)
  const c = await waitConverged(clusterClients, { instances: (o.base ?? 0) + r.ok, intervalMs: 50, timeoutMs: o.convergeTimeoutMs ?? 120_000 })
  if (c == null) throw new Error(`the nodes did not agree on ${(o.base ?? 0) + r.ok} instances`)
  return { registered: r.ok, seconds: r.spanMs / 1000, retried: r.retried, convergeMs: Math.max(0, c.atMs - r.lastAnswerAt), digest: c.digest }
}
