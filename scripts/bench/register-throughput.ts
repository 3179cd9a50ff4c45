import '../../node/polyfill.js'
import os from 'node:os'
import type { WireStatus } from '../../client/client.js'
import { unary } from '../../client/client.js'
import { report } from './bench-cluster.js'
import { cpuSeconds, envNum, exitOnSignals, fmtInt, monoMs, statuses, stealMeter, waitConverged, withStartedCluster } from './bench-util.js'
import { RegisterPool, summarize } from './register-pool.js'
import type { LoadSpec } from './register-pool.js'
import { hasSs, SocketMeter } from './socket-bytes.js'
import { hasH2load, runH2load } from './h2load-runner.js'
import { serviceClients } from '../../node/api/protos.js'

// 5 node processes (local profile). (1) Register throughput on one node: 64
// calls in flight for BENCH_SECONDS, every call a NEW instance. With h2load
// on the PATH (as bench:discover) the load is h2load, one request with an
// empty instance_id (the node generates one per call); it costs the machine
// far less than any Node client, and on two cores the client's CPU is the
// nodes' CPU (the Node load below took 40% of a core at 2,000/s). Every
// answered call must show as an instance on the node, or it counts as
// failed. Without h2load, or with BENCH_REGISTER_LOAD=workers: BENCH_WORKERS
// forked workers (register-worker.ts: node:http2 with a pre-encoded request
// whose instance_id digits are patched per call). (2) A burst of BENCH_BURST
// new instances on that node from the workers (they know when the last
// answer came): the time from the last Register answer until all five
// Status.digest agree (and hold every instance), polled every 20 ms from the
// burst's start.
const SECONDS = envNum('BENCH_SECONDS', 10)
const IN_FLIGHT = envNum('BENCH_IN_FLIGHT', 64)
const WORKERS = envNum('BENCH_WORKERS', 2)
const BURST = envNum('BENCH_BURST', 10_000)
const WARMUP = envNum('BENCH_WARMUP', 2000)
const CONVERGE_TIMEOUT_MS = envNum('BENCH_CONVERGE_TIMEOUT_S', 60) * 1000
const TTL_S = 3600
const LOAD = process.env.BENCH_REGISTER_LOAD === 'workers' || !await hasH2load() ? 'workers' : 'h2load'

/** What a throughput run did: calls answered and applied, failures, its span. */
interface Throughput { ok: number, errors: number, spanMs: number, lastAnswerAt: number, detail: string, /** instances the run added on n1 */ applied: number }

/** h2load, one body with an empty instance_id; a call counts once its instance is on n1. */
async function h2loadRun (addr: string, n1: Parameters<typeof unary>[0]): Promise<Throughput> {
  const method = (serviceClients().Registry as any).service.Register
  const message = method.requestSerialize({ instance: { service: 'reg', address: '10.9.0.1', port: 8080 }, ttl_seconds: TTL_S }) as Buffer
  const count = async (): Promise<number> => (await unary<WireStatus>(n1, 'Status', {}, { deadlineMs: 10_000 })).instances
  const before = await count()
  const r = await runH2load({ addr, path: method.path, message, inFlight: IN_FLIGHT, seconds: SECONDS, connections: 2 })
  // h2load does not say when its last answer came: its exit is the upper bound
  const lastAnswerAt = monoMs()
  // calls in flight when h2load stopped may be applied too: more instances than answers is fine, fewer is not
  const added = await count() - before
  const ok = Math.min(r.succeeded, added)
  return { ok, applied: added, errors: r.failed + r.succeeded - ok, spanMs: SECONDS * 1000, lastAnswerAt, detail: `h2load: ${fmtInt(r.succeeded)} answered, ${fmtInt(added)} instances added, mean call ${r.meanMs.toFixed(1)} ms` }
}

async function workersRun (specs: LoadSpec[]): Promise<Throughput> {
  const tput = await pool.run(specs)
  const t = summarize(tput)
  return {
    ok: t.ok,
    applied: t.ok,
    errors: t.errors,
    spanMs: t.spanMs,
    lastAnswerAt: t.lastAnswerAt,
    detail: `${WORKERS} worker processes, ${t.retried} retried${t.firstError != null ? ` (first error: ${t.firstError})` : ''}; ` +
      `call latency per worker p50 ${tput.map(r => r.p50.toFixed(1)).join('/')} ms, p99 ${tput.map(r => r.p99.toFixed(1)).join('/')} ms`
  }
}

exitOnSignals()
const pool = await RegisterPool.start(WORKERS)
try {
  await withStartedCluster(5, 8100, async cluster => {
    const addr = cluster.node(1).grpc
    const clusterClients = [1, 2, 3, 4, 5].map(i => cluster.clients(i).cluster)
    const lanes = (service: string, count: number, seconds: number): LoadSpec[] => Array.from({ length: WORKERS }, (_, k) => ({
      addr,
      shape: { service, idPrefix: `w${k}-`, ttlSeconds: TTL_S },
      first: 0,
      // the workers split the count; time-bound runs get a count they cannot reach
      count: seconds > 0 ? 10_000_000 : Math.floor(count / WORKERS) + (k < count % WORKERS ? 1 : 0),
      seconds,
      inFlight: Math.max(1, Math.round(IN_FLIGHT / WORKERS))
    }))

    // warm-up: JIT, connections, gossip streams; then wait for a quiet, agreeing cluster
    if (WARMUP > 0) {
      const w = summarize(await pool.run(lanes('warm', WARMUP, 0)))
      if (w.errors > 0) throw new Error(`warm-up: ${w.errors} calls failed (${w.firstError ?? ''})`)
    }
    const warm = await waitConverged(clusterClients, { instances: WARMUP, timeoutMs: CONVERGE_TIMEOUT_MS, intervalMs: 100 })
    if (warm == null) throw new Error('the cluster did not agree after the warm-up')

    // (1) throughput; the gossip sockets of the five are watched meanwhile (for reference, not a figure)
    const grpcPorts = new Set(cluster.nodes().map(n => Number(n.grpc.split(':')[1])))
    const procs = cluster.nodes().map(n => ({ pid: n.pid ?? -1, listenPorts: [Number(n.gossip.split(':')[1])] }))
    const meter = await hasSs() ? new SocketMeter(procs, s => !grpcPorts.has(s.localPort) && !grpcPorts.has(s.peerPort), 500) : undefined
    await meter?.start()
    const cpuPids = [...cluster.nodes().map(n => n.pid ?? -1), ...pool.pids]
    const cpu0 = cpuPids.map(cpuSeconds)
    const steal = stealMeter()
    const c0 = monoMs()
    const t: Throughput = LOAD === 'h2load'
      ? await h2loadRun(addr, cluster.clients(1).cluster)
      : await workersRun(lanes('reg', 0, SECONDS))
    const cpuPct = cpuPids.map((p, k) => 100 * (cpuSeconds(p) - cpu0[k]) / ((monoMs() - c0) / 1000))
    const cpuMs = cpuPids.map((p, k) => 1000 * (cpuSeconds(p) - cpu0[k]))
    const stolen = steal()
    const traffic = await meter?.stop()
    // CPU per registration does not depend on what else the machine runs; the rate does
    const perReg = (ms: number): string => (ms / Math.max(1, t.ok)).toFixed(2)
    console.log(`for reference: CPU during the run, % of one core: nodes ${cluster.nodes().map((n, k) => `${n.name} ${cpuPct[k].toFixed(0)}`).join(', ')}; ` +
      `${LOAD === 'workers' ? `load workers ${cpuPct.slice(5).map(c => c.toFixed(0)).join(', ')}` : 'h2load not counted'}; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores; ` +
      `stolen by the hypervisor ${stolen.toFixed(1)}% of the machine's CPU time. ` +
      `CPU per registration: n1 ${perReg(cpuMs[0])} ms, each other node ${cpuMs.slice(1, 5).map(perReg).join('/')} ms, all 5 nodes ${perReg(cpuMs.slice(0, 5).reduce((a, b) => a + b, 0))} ms`)
    const rate = t.ok / (t.spanMs / 1000)
    const owner = await unary<WireStatus>(cluster.clients(1).cluster, 'Status', {}, { deadlineMs: 10_000 })
    console.log(`register throughput: ${fmtInt(t.ok)} new instances in ${(t.spanMs / 1000).toFixed(2)} s on n1, ${IN_FLIGHT} in flight; ${t.errors} failed; ${t.detail}`)
    if (traffic != null) {
      const all = [...traffic.values()]
      const sent = all.reduce((a, x) => a + x.bytesSent, 0)
      console.log(`for reference: gossip sockets during the run: ${fmtInt(sent)} bytes sent by the 5 nodes (${fmtInt(sent / Math.max(1, t.ok))} per registration), ` +
        `${all.reduce((a, x) => a + x.opened, 0).toFixed(0)} TCP sockets opened meanwhile`)
    }
    if (owner.instances !== WARMUP + t.applied) console.log(`note: n1 holds ${owner.instances} instances, expected ${WARMUP + t.applied} (calls that failed on the client may have been applied)`)
    const afterTput = await waitConverged(clusterClients, { instances: owner.instances, timeoutMs: CONVERGE_TIMEOUT_MS })
    console.log(afterTput == null
      ? `after the throughput run the digests did not agree within ${CONVERGE_TIMEOUT_MS} ms`
      : `for reference: after the throughput run, all 5 digests agreed ${(afterTput.atMs - t.lastAnswerAt).toFixed(0)} ms after the last answer (${fmtInt(owner.instances)} instances)`)

    // (2) burst → convergence; polled every 20 ms from the start of the burst
    const before = afterTput?.instances ?? (await statuses(clusterClients))[0].instances
    let expected: number | undefined = before + BURST
    const polling = new AbortController()
    const converged = waitConverged(clusterClients, { instances: () => expected, intervalMs: 20, timeoutMs: CONVERGE_TIMEOUT_MS + 120_000, signal: polling.signal })
    let b
    try {
      b = summarize(await pool.run(lanes('burst', BURST, 0)))
    } catch (err) {
      polling.abort()
      throw err
    }
    if (b.errors > 0) {
      // failed calls may still have been applied: trust the owner's count
      expected = (await unary<WireStatus>(cluster.clients(1).cluster, 'Status', {}, { deadlineMs: 10_000 })).instances
      console.log(`burst: ${b.errors} calls failed (first: ${b.firstError ?? '?'}); waiting for ${expected} instances everywhere`)
    }
    const stopPolling = setTimeout(() => { polling.abort() }, CONVERGE_TIMEOUT_MS)
    const c = await converged
    clearTimeout(stopPolling)
    console.log(`burst: ${fmtInt(b.ok)} registrations on n1 in ${(b.spanMs / 1000).toFixed(2)} s (${fmtInt(b.ok / (b.spanMs / 1000))}/s), ${IN_FLIGHT} in flight; ` +
      (c == null ? 'digests did not agree' : `all 5 digests agreed ${(c.atMs - b.lastAnswerAt).toFixed(0)} ms after the last answer (${c.polls} polls, ${fmtInt(c.instances)} instances)`))

    report(`Register throughput, one node of 5, ${IN_FLIGHT} in flight, new instance per call (${LOAD})`, `${fmtInt(rate)}/s`, '≥ 5,000/s', rate >= 5000 && t.errors === 0)
    const conv = c == null ? Infinity : Math.max(0, c.atMs - b.lastAnswerAt)
    report(`burst of ${fmtInt(BURST)} Registers → all 5 digests equal (from the last answer)`, c == null ? `> ${CONVERGE_TIMEOUT_MS / 1000} s` : `${(conv / 1000).toFixed(2)} s`, '≤ 2 s', conv <= 2000)
  })
} finally {
  await pool.close()
}
process.exit(0)

