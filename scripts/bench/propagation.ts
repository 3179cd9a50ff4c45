import '../../node/polyfill.js'
import { unary } from '../../client/client.js'
import type { LocalCluster } from '../../cluster/launcher.js'
import { waitFor } from '../../cluster/wait.js'
import { WatchRecorderLite } from './watch-timer.js'
import { percentile, report, withCluster } from './bench-cluster.js'

// 5 node processes; 100 registrations a second for 30 s on node 1; the time
// from each Register call to its UPSERT on a Watch on every other node.
const RATE = Number(process.env.BENCH_RATE ?? 100)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30)
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 30)

await withCluster(5, 7800, async cluster => {
  const watchers = [2, 3, 4, 5].map(i => new WatchRecorderLite(cluster.clients(i).registry, 'bench'))
  // the same watch on the owner itself: no gossip hop, only gRPC in and out (the floor of this harness)
  const local = new WatchRecorderLite(cluster.clients(1).registry, 'bench')
  await waitFor(() => watchers.every(w => w.synced) && local.synced, { message: 'watches SYNCED' })
  // V8 compiles the hot paths of six processes over the first tens of seconds of this load (TurboFan
  // kept working through a 30 s run); a node serving for days runs the compiled code, so the same
  // load runs first, uncounted, under other instance ids, until every watch has seen it
  const warm = WARMUP_S * RATE
  await registerPaced(cluster, 'w', warm, () => {})
  await waitFor(() => watchers.every(w => w.arrivals.size >= warm) && local.arrivals.size >= warm, { timeoutMs: 30_000, message: 'every warm-up UPSERT on every watch' })
  for (const w of [...watchers, local]) w.arrivals.clear()
  const sent = new Map<string, number>()
  const total = RATE * SECONDS
  const callLat = await registerPaced(cluster, 'i', total, (id, at) => { sent.set(id, at) })
  await waitFor(() => watchers.every(w => w.arrivals.size >= total) && local.arrivals.size >= total, { timeoutMs: 30_000, message: 'every UPSERT on every watch' })
  const floor = [...local.arrivals].map(([id, at]) => at - (sent.get(id) ?? at)).sort((a, b) => a - b)
  const lat: number[] = []
  for (const w of watchers) for (const [id, at] of w.arrivals) lat.push(at - (sent.get(id) ?? at))
  lat.sort((a, b) => a - b)
  const p50 = percentile(lat, 50)
  const p99 = percentile(lat, 99)
  console.log(`propagation: ${total} registrations at ${RATE}/s on node 1 after ${warm} uncounted (${WARMUP_S} s), ${lat.length} UPSERTs on 4 watches`)
  console.log(`p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${lat[lat.length - 1].toFixed(2)} ms`)
  console.log(`for reference: the Register call itself p50 ${percentile(callLat, 50).toFixed(2)} ms p99 ${percentile(callLat, 99).toFixed(2)} ms; ` +
    `Register → UPSERT on a watch on the owner (no gossip hop) p50 ${percentile(floor, 50).toFixed(2)} ms p99 ${percentile(floor, 99).toFixed(2)} ms`)
  report('propagation p50 (Register → Watch UPSERT on 4 other nodes)', `${p50.toFixed(2)} ms`, '≤ 3 ms', p50 <= 3)
  report('propagation p99', `${p99.toFixed(2)} ms`, '≤ 20 ms', p99 <= 20)
  for (const w of [...watchers, local]) w.close()
})
process.exit(0)

/**
 * `count` Registers on node 1 at RATE a second, paced by the schedule, not
 * by the previous call (a slow call does not slow the load); `sent` gets
 * each id and when its call started. Returns the calls' latencies, sorted.
 */
async function registerPaced (cluster: LocalCluster, prefix: string, count: number, sent: (id: string, at: number) => void): Promise<number[]> {
  const started = performance.now()
  const calls: Array<Promise<unknown>> = []
  const lat: number[] = []
  for (let n = 0; n < count; n++) {
    const wait = started + (n * 1000) / RATE - performance.now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    const id = `${prefix}${n}`
    const t = performance.now()
    sent(id, t)
    calls.push(unary(cluster.clients(1).registry, 'Register', { instance: { service: 'bench', instance_id: id, address: '10.1.0.1', port: 1 + (n % 60000) }, ttl_seconds: 600 })
      .then(() => { lat.push(performance.now() - t) }))
  }
  await Promise.all(calls)
  return lat.sort((a, b) => a - b)
}
