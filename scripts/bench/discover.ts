import '../../node/polyfill.js'
import { unary } from '../../client/client.js'
import { serviceClients } from '../../node/api/protos.js'
import { percentile, report, withCluster } from './bench-cluster.js'
import { h2Load } from './h2-load.js'

// Discover QPS against one node: 10-instance answers, 64 calls in flight, for a fixed time.
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const IN_FLIGHT = 64

await withCluster(3, 7850, async cluster => {
  for (let i = 0; i < 10; i++) {
    await unary(cluster.clients(1).registry, 'Register', { instance: { service: 'disc', instance_id: `d${i}`, address: '10.2.0.1', port: 1000 + i, tags: ['x'] }, ttl_seconds: 600 })
  }
  const check = await unary<any>(cluster.clients(1).registry, 'Discover', { service: 'disc' })
  if (check.instances.length !== 10) throw new Error(`expected 10 instances, got ${check.instances.length}`)
  const method = (serviceClients().Registry as any).service.Discover
  const r = await h2Load({ addr: cluster.node(1).grpc, path: method.path, message: method.requestSerialize({ service: 'disc' }), inFlight: IN_FLIGHT, seconds: SECONDS, connections: 2 })
  r.latencies.sort((a, b) => a - b)
  const qps = r.ok / r.elapsedS
  console.log(`discover: ${r.ok} calls in ${r.elapsedS.toFixed(1)} s, ${IN_FLIGHT} in flight, ${r.errors} errors; latency p50 ${percentile(r.latencies, 50).toFixed(2)} ms p99 ${percentile(r.latencies, 99).toFixed(2)} ms`)
  report('Discover QPS, one node, 10-instance answers, 64 in flight', `${Math.round(qps)}/s`, '≥ 12,000/s', qps >= 12_000)
})
process.exit(0)
