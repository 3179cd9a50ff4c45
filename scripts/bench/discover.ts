import '../../node/polyfill.js'
import { unary } from '../../client/client.js'
import { serviceClients } from '../../node/api/protos.js'
import { percentile, report, withCluster } from './bench-cluster.js'
import { h2Load } from './h2-load.js'
import type { H2LoadOptions } from './h2-load.js'
import { hasH2load, runH2load } from './h2load-runner.js'

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
  const load: H2LoadOptions = { addr: cluster.node(1).grpc, path: method.path, message: method.requestSerialize({ service: 'disc' }), inFlight: IN_FLIGHT, seconds: SECONDS, connections: 2 }
  let qps: number
  let generator: string
  if (await hasH2load()) {
    const r = await runH2load(load)
    if (r.failed > 0) throw new Error(`${r.failed} calls failed`)
    qps = r.reqPerS
    generator = 'h2load'
    console.log(`discover (h2load): ${r.succeeded} calls in ${SECONDS} s, ${IN_FLIGHT} in flight; mean ${r.meanMs.toFixed(2)} ms`)
  } else {
    // the Node generator is itself CPU-bound near 8,000/s here: install nghttp2-client for the real figure
    const r = await h2Load(load)
    if (r.errors > 0) throw new Error(`${r.errors} calls failed`)
    r.latencies.sort((a, b) => a - b)
    qps = r.ok / r.elapsedS
    generator = 'node:http2 (install nghttp2-client for h2load)'
    console.log(`discover (${generator}): ${r.ok} calls in ${r.elapsedS.toFixed(1)} s; latency p50 ${percentile(r.latencies, 50).toFixed(2)} ms p99 ${percentile(r.latencies, 99).toFixed(2)} ms`)
  }
  report(`Discover QPS, one node, 10-instance answers, 64 in flight (${generator})`, `${Math.round(qps)}/s`, '≥ 12,000/s', qps >= 12_000)
})
process.exit(0)
