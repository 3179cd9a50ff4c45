import '../../node/polyfill.js'
import { connect, unary } from '../../client/client.js'
import { percentile, report, withCluster } from './bench-cluster.js'

// Discover QPS against one node: 10-instance answers, 64 calls in flight, for a fixed time.
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const IN_FLIGHT = 64

await withCluster(3, 7850, async cluster => {
  const addr = cluster.node(1).grpc
  for (let i = 0; i < 10; i++) {
    await unary(cluster.clients(1).registry, 'Register', { instance: { service: 'disc', instance_id: `d${i}`, address: '10.2.0.1', port: 1000 + i, tags: ['x'] }, ttl_seconds: 600 })
  }
  // two channels: one HTTP/2 connection's framing in the client becomes the ceiling otherwise
  const clients = [connect(addr, { 'grpc.use_local_subchannel_pool': 1 }), connect(addr, { 'grpc.use_local_subchannel_pool': 1 })]
  const check = await unary<any>(clients[0].registry, 'Discover', { service: 'disc' })
  if (check.instances.length !== 10) throw new Error(`expected 10 instances, got ${check.instances.length}`)
  const end = performance.now() + SECONDS * 1000
  const lat: number[] = []
  let errors = 0
  const worker = async (k: number): Promise<void> => {
    const c = clients[k % clients.length]
    while (performance.now() < end) {
      const t = performance.now()
      try {
        await unary(c.registry, 'Discover', { service: 'disc' })
        lat.push(performance.now() - t)
      } catch {
        errors++
      }
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: IN_FLIGHT }, async (_, k) => await worker(k)))
  const elapsed = (performance.now() - t0) / 1000
  lat.sort((a, b) => a - b)
  const qps = lat.length / elapsed
  console.log(`discover: ${lat.length} calls in ${elapsed.toFixed(1)} s, ${IN_FLIGHT} in flight, ${errors} errors; latency p50 ${percentile(lat, 50).toFixed(2)} ms p99 ${percentile(lat, 99).toFixed(2)} ms`)
  report('Discover QPS, one node, 10-instance answers, 64 in flight', `${Math.round(qps)}/s`, '≥ 12,000/s', qps >= 12_000)
  for (const c of clients) c.close()
})
process.exit(0)
