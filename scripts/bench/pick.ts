import '../../node/polyfill.js'
import { unary } from '../../client/client.js'
import { serviceClients } from '../../node/api/protos.js'
import { report, withCluster } from './bench-cluster.js'
import { h2Load } from './h2-load.js'
import type { H2LoadOptions } from './h2-load.js'
import { hasH2load, runH2load } from './h2load-runner.js'

// Pick over gRPC against one node, 64 calls in flight, round robin over 10 instances.
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)

await withCluster(3, 7970, async cluster => {
  for (let i = 0; i < 10; i++) {
    await unary(cluster.clients(1).registry, 'Register', { instance: { service: 'pick', instance_id: `p${i}`, address: '10.3.0.1', port: 1000 + i }, ttl_seconds: 600 })
  }
  const method = (serviceClients().Registry as any).service.Pick
  const load: H2LoadOptions = { addr: cluster.node(1).grpc, path: method.path, message: method.requestSerialize({ service: 'pick' }), inFlight: 64, seconds: SECONDS, connections: 2 }
  const useH2load = await hasH2load()
  const qps = useH2load ? (await runH2load(load)).reqPerS : await h2Load(load).then(r => r.ok / r.elapsedS)
  const stats = await unary<any>(cluster.clients(1).registry, 'BalancerStats', { service: 'pick' })
  const counts = stats.instances.map((s: any) => Number(s.picks))
  console.log(`pick: ${Math.round(qps)}/s; picks per instance ${counts.join(' ')}`)
  report(`Pick QPS over gRPC, one node, 64 in flight (${useH2load ? 'h2load' : 'node:http2'})`, `${Math.round(qps)}/s`, '≥ 12,000/s', qps >= 12_000)
})
process.exit(0)
