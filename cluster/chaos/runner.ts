import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { seededRandom } from '../../node/membership/clock.js'
import { freeBasePort } from '../free-ports.js'
import { LocalCluster } from '../launcher.js'
import { chaosBounds, describeBounds } from './bounds.js'
import { Caller } from './calls.js'
import { checkHistory } from './checker.js'
import type { InvariantResult } from './checker.js'
import { describePlan, FaultRunner, planFaults, sleepUntil } from './faults.js'
import { History } from './history.js'
import { formatTable, formatTimeline, formatViolations } from './report.js'
import { Sampler } from './sampler.js'
import { Watchers } from './watchers.js'
import { Workload } from './workload.js'

/** Options of {@link runChaos}; everything but the seed has a default. */
export interface ChaosOptions {
  readonly seed: number
  /** node processes; default 5 */
  readonly nodes?: number
  /** whole run, faults included, before the final checks; default 90 */
  readonly durationS?: number
  /** simulated instances; default 200 */
  readonly instances?: number
  /** services they spread over; default 20 */
  readonly services?: number
  /** TTL of every instance; default 5 */
  readonly ttlS?: number
  /** gRPC of node i on basePort + 2(i-1); default 7700, or a free range when any of its ports is taken */
  readonly basePort?: number
  /** cluster folder (data dirs, logs); default a fresh temp dir, removed after a passing run */
  readonly dir?: string
  /** dump the history here as JSON lines */
  readonly historyFile?: string
  /** node profile; default test */
  readonly profile?: string
  /** keep the cluster folder even when every invariant holds */
  readonly keep?: boolean
  /** progress and report lines; default stdout */
  readonly log?: (line: string) => void
}

/** What a run found. */
export interface ChaosReport {
  readonly passed: boolean
  readonly results: readonly InvariantResult[]
  readonly history: History
  /** the table, and on failure the seed, the fault timeline and the first offending entries */
  readonly text: string
  /** the cluster folder (kept on failure) */
  readonly dir: string
  /** wall-clock length of the whole run, start to checked */
  readonly elapsedMs: number
}

// the last stretch of the run has no faults and no churn: everything heals, restarts and settles
const QUIET_MS = 20_000

/**
 * One chaos run: a LocalCluster with fault files, the workload, a watcher
 * per node and Discover sampling on every node, seeded faults until
 * duration − 20 s, then heal, restart, settle, take the final samples and
 * check the history. `npm run chaos` and the e2e test both come here.
 */
export async function runChaos (opts: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now()
  const log = opts.log ?? ((line: string) => { process.stdout.write(line + '\n') })
  const nodes = opts.nodes ?? 5
  const durationMs = (opts.durationS ?? 90) * 1000
  const quietMs = Math.min(QUIET_MS, durationMs / 2)
  const ttlMs = (opts.ttlS ?? 5) * 1000
  const profile = opts.profile ?? 'test'
  const services = Array.from({ length: opts.services ?? 20 }, (_, k) => `svc-${String(k).padStart(2, '0')}`)
  const bounds = chaosBounds(profile, nodes, ttlMs)
  const dir = opts.dir ?? await mkdtemp(path.join(os.tmpdir(), 'grapevine-chaos-'))
  const history = new History()
  let recording = false
  // a machine shared with other runs (another `npm test`) may hold the ports: take a free range, and a cluster name of our own
  const basePort = await freeBasePort(opts.basePort ?? 7700, 2 * nodes)
  const newCluster = (): LocalCluster => new LocalCluster({
    nodes,
    dir,
    basePort,
    profile,
    cluster: `chaos-${opts.seed}-${process.pid}`,
    faults: true,
    onExit: e => { if (recording) history.record({ kind: 'exit', node: e.index, code: e.code, signal: e.signal, expected: e.expected }) }
  })
  let cluster = newCluster()
  let failure: unknown
  let workload: Workload | undefined
  let sampler: Sampler | undefined
  let watchers: Watchers | undefined
  let progress: NodeJS.Timeout | undefined
  // the runner's longest event-loop stall: seconds of it mean the machine itself was starved
  let stalledMs = 0
  const lag = monitorEventLoopDelay({ resolution: 20 })
  lag.enable()
  try {
    cluster = await startCluster(cluster, newCluster, log)
    const caller = new Caller(cluster, history)
    cluster.heal()
    const t0 = Date.now()
    recording = true
    const plan = planFaults(seededRandom(opts.seed), { nodes, fromMs: 5000, untilMs: durationMs - quietMs, judgeMs: { hang: bounds.hangDetectMs, partition: bounds.hangDetectMs + bounds.partitionExtraMs } })
    history.record({
      kind: 'meta', seed: opts.seed, nodes, nodeIds: cluster.nodes().map(n => n.nodeId ?? ''), services, instances: opts.instances ?? 200,
      ttlMs, durationMs, faultsEndAt: t0 + durationMs - quietMs, profile, bounds
    }, t0)
    workload = new Workload(caller, history, { seed: opts.seed, nodes, instances: opts.instances ?? 200, services, ttlMs, churnFrom: t0 + 4000, churnUntil: t0 + durationMs - quietMs })
    sampler = new Sampler(caller, nodes, services, 500, 2000)
    watchers = new Watchers(cluster, caller, history, { seed: opts.seed, nodes, services })
    log(`chaos: seed ${opts.seed}, ${nodes} nodes (profile ${profile}), ${durationMs / 1000} s, faults until ${(durationMs - quietMs) / 1000} s; cluster dir ${dir}`)
    log(`workload: ${workload.summary()}; a watcher per node; Discover of every service on every node every 500 ms`)
    log(`bounds:\n${describeBounds(bounds).replace(/^/gm, '  ')}`)
    log(`fault plan:\n${describePlan(plan)}`)
    history.record({ kind: 'phase', name: 'started' })
    watchers.start()
    workload.start()
    sampler.start()
    let cpu = process.cpuUsage()
    progress = setInterval(() => {
      const used = process.cpuUsage(cpu)
      cpu = process.cpuUsage()
      stalledMs = Math.max(stalledMs, lag.max / 1e6)
      log(`  ${((Date.now() - t0) / 1000).toFixed(0)} s: ${history.entries.length} history entries; runner cpu ${((used.user + used.system) / 1e5).toFixed(0)}%, event loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms, max ${(lag.max / 1e6).toFixed(0)} ms`)
      lag.reset()
    }, 10_000).unref()
    const faults = new FaultRunner(cluster, history, { maxFaulty: 2, log })
    await faults.run(plan, t0, new AbortController().signal)
    history.record({ kind: 'phase', name: 'faults-end' })
    await faults.healAll(60_000)
    history.record({ kind: 'phase', name: 'healed' })
    workload.settle()
    await sleepUntil(t0 + durationMs)
    history.record({ kind: 'phase', name: 'final' })
    watchers.settle()
    await sampler.stop()
    await pollConvergence(caller, nodes, bounds.convergeMs + 15_000)
    await sampler.finalRound()
    await watchers.finalCuts(15_000)
    history.record({ kind: 'phase', name: 'done' })
  } catch (err) {
    failure = err
    history.record({ kind: 'phase', name: 'done', detail: `run failed: ${err instanceof Error ? err.message : String(err)}` })
  } finally {
    clearInterval(progress)
    lag.disable()
    stalledMs = Math.max(stalledMs, lag.max / 1e6)
    await workload?.stop()
    watchers?.stop()
    await sampler?.stop()
    await cluster.stop()
  }
  return await finish(opts, history, dir, failure, started, log, stalledMs)
}

async function finish (opts: ChaosOptions, history: History, dir: string, failure: unknown, started: number, log: (line: string) => void, stalledMs: number): Promise<ChaosReport> {
  let results: InvariantResult[] = []
  try {
    results = checkHistory(history.entries)
  } catch (err) {
    failure ??= err
  }
  const passed = failure === undefined && results.length > 0 && results.every(r => r.pass)
  const t0 = history.entries.find(e => e.kind === 'meta')?.t ?? started
  const parts = [formatTable(results)]
  if (failure !== undefined) parts.push(`run failed: ${failure instanceof Error ? failure.stack ?? failure.message : String(failure)}`)
  if (!passed) {
    parts.push(`seed ${opts.seed} FAILED (rerun: npm run chaos -- --seed ${opts.seed} --duration ${opts.durationS ?? 90} --nodes ${opts.nodes ?? 5})`)
    parts.push(`fault timeline:\n${formatTimeline(history.entries, t0)}`)
    parts.push(formatViolations(results, t0))
    parts.push(`node logs kept in ${dir}`)
  }
  // not a verdict on the registry, but worth knowing when reading one: timing bounds assume a machine that runs us
  if (stalledMs > 2000) parts.push(`warning: the runner's event loop stalled for up to ${stalledMs.toFixed(0)} ms: the machine was overloaded, and time bounds may have been missed for that reason`)
  const elapsedMs = Date.now() - started
  parts.push(`seed ${opts.seed}: ${passed ? 'every invariant holds' : 'FAILED'} (${history.entries.length} history entries, ${(elapsedMs / 1000).toFixed(1)} s)`)
  const text = parts.join('\n')
  log(text)
  // a failed run keeps its history beside the node logs, for `npm run chaos -- --check FILE`
  const historyFile = opts.historyFile !== undefined && opts.historyFile !== '' ? opts.historyFile : passed ? undefined : path.join(dir, 'history.jsonl')
  if (historyFile !== undefined) {
    await history.dump(historyFile)
    log(`history written to ${historyFile}`)
  }
  if (passed && opts.dir === undefined && opts.keep !== true) await rm(dir, { recursive: true, force: true })
  return { passed, results, history, text, dir, elapsedMs }
}

// a start on a busy machine can miss the launcher's 1 s Status deadline: try a fresh cluster twice more
async function startCluster (first: LocalCluster, make: () => LocalCluster, log: (line: string) => void): Promise<LocalCluster> {
  let cluster = first
  for (let attempt = 1; ; attempt++) {
    try {
      await cluster.start({ timeoutMs: 60_000 })
      return cluster
    } catch (err) {
      if (attempt >= 3) throw err
      log(`  cluster start failed (${err instanceof Error ? err.message : String(err)}); starting again`)
      cluster = make()
    }
  }
}

/** Polls every node's Status (recorded as final) until all digests agree or `maxMs` passes. */
async function pollConvergence (caller: Caller, nodes: number, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs
  for (let round = 1; Date.now() < until; round++) {
    const answers = await Promise.all(Array.from({ length: nodes }, async (_, k) => await caller.status(k + 1, { round, final: true }, 2000)))
    if (answers.every(a => a.ok) && new Set(answers.map(a => a.ok ? a.res.digest : '')).size === 1) return
    await sleep(200)
  }
}
