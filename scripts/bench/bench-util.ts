import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type * as grpc from '@grpc/grpc-js'
import { unary } from '../../client/client.js'
import type { WireStatus } from '../../client/client.js'
import { LocalCluster } from '../../cluster/launcher.js'

/**
 * Like withCluster (bench-cluster.ts), but a cluster that fails to START is
 * tried again (up to `attempts` times, in a fresh folder): on a busy shared
 * machine LocalCluster's 1 s Status deadline at start is sometimes missed.
 * Failures of `run` itself are not retried.
 */
export async function withStartedCluster<T> (nodes: number, basePort: number, run: (c: LocalCluster) => Promise<T>, profile = 'local', attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(path.join(tmpdir(), 'grapevine-bench-'))
    const cluster = new LocalCluster({ nodes, dir, basePort, profile, logLevel: 'info' })
    let started = false
    try {
      await cluster.start({ timeoutMs: 60_000 })
      started = true
      return await run(cluster)
    } catch (err) {
      if (started || attempt >= attempts) throw err
      console.log(`cluster start failed (attempt ${attempt} of ${attempts}): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; retrying`)
    } finally {
      await cluster.stop()
      if (process.env.BENCH_KEEP === undefined) await rm(dir, { recursive: true, force: true })
      else console.log(`kept ${dir}`)
    }
  }
}

/**
 * Milliseconds on CLOCK_MONOTONIC: unlike performance.now() (whose origin
 * is the start of each process), the same clock in every process of the
 * machine, so times taken in forked workers and in the parent compare.
 */
export function monoMs (): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/** A number from the environment, or `fallback` when unset or not a number. */
export function envNum (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n)) throw new Error(`${name}=${raw} is not a number`)
  return n
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/**
 * SIGINT and SIGTERM end the process without running 'exit' listeners;
 * LocalCluster kills its node processes from one. Exit properly instead,
 * so an interrupted benchmark leaves no node behind.
 */
export function exitOnSignals (): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { process.exit(130) })
}

/** VmRSS and VmHWM (peak) of a process from /proc/<pid>/status, in KiB. */
export function procMemKb (pid: number): { rssKb: number, hwmKb: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)
    if (m == null) throw new Error(`no ${name} in /proc/${pid}/status`)
    return Number(m[1])
  }
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') }
}

/** CPU time (user + system) a process has used, in seconds, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // the command name (2nd field) may hold spaces: count fields after its closing parenthesis
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}

/** The machine's CPU time so far from /proc/stat, in clock ticks: all of it, and the part the hypervisor gave to others (steal). */
function machineTicks (): { total: number, steal: number } {
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user already)
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number)
  return { total: f.reduce((a, b) => a + b, 0), steal: f[7] }
}

/**
 * Starts measuring CPU steal: the share of this virtual machine's CPU time
 * its hypervisor ran someone else instead. The returned function gives the
 * share since the start, in per cent. This host is shared: in a slow
 * stretch a third of the two cores was stolen during a benchmark, which no
 * change here can win back, so the two figures that depend on it print it.
 */
export function stealMeter (): () => number {
  const t0 = machineTicks()
  return () => {
    const t = machineTicks()
    return t.total === t0.total ? 0 : 100 * (t.steal - t0.steal) / (t.total - t0.total)
  }
}

/** Median VmRSS (KiB) of `samples` readings `everyMs` apart: one GC cycle moves a single reading. */
export async function medianRssKb (pid: number, samples = 5, everyMs = 200): Promise<number> {
  const xs: number[] = []
  for (let k = 0; k < samples; k++) {
    if (k > 0) await sleep(everyMs)
    xs.push(procMemKb(pid).rssKb)
  }
  xs.sort((a, b) => a - b)
  return xs[Math.floor(xs.length / 2)]
}

/** Cluster.Status of every client, in parallel. */
export async function statuses (clusterClients: readonly grpc.Client[], deadlineMs = 2000): Promise<WireStatus[]> {
  return await Promise.all(clusterClients.map(async c => await unary<WireStatus>(c, 'Status', {}, { deadlineMs })))
}

/** Options of {@link waitConverged}. */
export interface ConvergeOptions {
  /** every node must also hold exactly this many instances (a function is asked each round; undefined: any) */
  readonly instances?: number | (() => number | undefined)
  /** this digest, rather than "all equal" */
  readonly digest?: string
  readonly intervalMs?: number
  readonly timeoutMs: number
  /** polling ends (with a null result) when this aborts */
  readonly signal?: AbortSignal
}

/** When the digests agreed (monoMs when the agreeing answers arrived), and on what. */
export interface Converged {
  readonly atMs: number
  readonly digest: string
  readonly instances: number
  readonly polls: number
}

/**
 * Polls Cluster.Status of every node every `intervalMs` until all digests
 * are equal (and, if given, every node holds `instances` records). The time
 * is taken when the answers of the agreeing round arrived: an upper bound,
 * late by at most one interval plus a Status round trip. A round that fails
 * (a node busy past the deadline) counts as "not yet".
 */
export async function waitConverged (clusterClients: readonly grpc.Client[], o: ConvergeOptions): Promise<Converged | null> {
  const interval = o.intervalMs ?? 20
  const deadline = monoMs() + o.timeoutMs
  let polls = 0
  let last = ''
  while (monoMs() < deadline && o.signal?.aborted !== true) {
    const roundStart = monoMs()
    polls++
    try {
      const st = await statuses(clusterClients, Math.max(200, Math.min(2000, deadline - roundStart)))
      const at = monoMs()
      const d = st[0].digest
      const want = typeof o.instances === 'function' ? o.instances() : o.instances
      const agree = st.every(s => s.digest === d) && (o.digest === undefined || d === o.digest) &&
        (want === undefined || st.every(s => s.instances === want))
      if (agree) return { atMs: at, digest: d, instances: st[0].instances, polls }
      last = st.map(s => `${s.name}:${s.instances}/${s.digest.slice(0, 8)}`).join(' ')
    } catch (err) {
      last = `poll failed: ${err instanceof Error ? err.message : String(err)}`
    }
    const pause = interval - (monoMs() - roundStart)
    if (pause > 0) await sleep(pause)
  }
  if (o.signal?.aborted !== true) console.log(`digests did not agree within ${o.timeoutMs} ms; last seen ${last}`)
  return null
}

/** 12345678 → "12,345,678". */
export function fmtInt (n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** KiB → "123.4 MB" (MiB, as the kernel's kB are KiB). */
export function fmtMb (kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`
}
