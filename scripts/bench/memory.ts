import '../../node/polyfill.js'
import { report } from './bench-cluster.js'
import { envNum, exitOnSignals, fmtInt, fmtMb, medianRssKb, procMemKb, sleep, withStartedCluster } from './bench-util.js'
import { fillCluster, RegisterPool } from './register-pool.js'

// Memory of a full registry: BENCH_INSTANCES (100,000) instances on 5 node
// processes, a fifth registered on each node, every record replicated to
// every node; once all digests agree and the nodes have been idle for
// BENCH_SETTLE_S (15: a quiet node gives back a burst's garbage after 3-5 s, see
// node/memory-reclaimer.ts), each node's VmRSS (/proc/<pid>/status) against 200 MB.
const INSTANCES = envNum('BENCH_INSTANCES', 100_000)
const IN_FLIGHT_PER_NODE = envNum('BENCH_IN_FLIGHT', 32)
const FILL_TIMEOUT_S = envNum('BENCH_FILL_TIMEOUT_S', 150)
const WORKERS = envNum('BENCH_WORKERS', 2)
const SETTLE_S = envNum('BENCH_SETTLE_S', 15)
const TARGET_MB = 200

exitOnSignals()
const pool = await RegisterPool.start(WORKERS)
try {
  await withStartedCluster(5, 8120, async cluster => {
    const nodes = cluster.nodes()
    const pids = nodes.map(n => n.pid ?? NaN)
    const before = await Promise.all(pids.map(async pid => await medianRssKb(pid)))
    console.log(`RSS before: ${nodes.map((n, k) => `${n.name} ${fmtMb(before[k])}`).join(', ')}`)
    const fill = await fillCluster(pool, nodes.map(n => n.grpc), nodes.map(n => cluster.clients(n.index).cluster),
      { total: INSTANCES, inFlightPerNode: IN_FLIGHT_PER_NODE, service: 'mem', maxSeconds: FILL_TIMEOUT_S })
    const n = fill.registered
    console.log(`registered ${fmtInt(n)} instances (a fifth on each node) in ${fill.seconds.toFixed(1)} s ` +
      `(${fmtInt(n / fill.seconds)}/s over 5 nodes, ${IN_FLIGHT_PER_NODE} in flight each, ${fill.retried} retried calls); all digests agreed ${fill.convergeMs.toFixed(0)} ms after the last answer`)
    await sleep(SETTLE_S * 1000)
    const after = await Promise.all(pids.map(async pid => await medianRssKb(pid)))
    const peak = pids.map(pid => procMemKb(pid).hwmKb)
    for (const [k, node] of nodes.entries()) {
      console.log(`${node.name} (pid ${pids[k]}): RSS ${fmtMb(after[k])} (${fmtMb(after[k] - before[k])} more than before the load), peak ${fmtMb(peak[k])}; ` +
        `${((after[k] - before[k]) * 1024 / n).toFixed(0)} bytes per instance`)
    }
    for (const [k, node] of nodes.entries()) {
      // fewer instances than asked (the load hit its time limit) cannot meet the target
      report(`RSS with ${fmtInt(n)} instances (5 nodes, all replicated), ${node.name}`, `${fmtMb(after[k])} (peak ${fmtMb(peak[k])})`, `≤ ${TARGET_MB} MB at ${fmtInt(INSTANCES)}`, n >= INSTANCES && after[k] / 1024 <= TARGET_MB)
    }
  })
} finally {
  await pool.close()
}
process.exit(0)
