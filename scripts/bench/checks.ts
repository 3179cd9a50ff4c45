import '../../node/polyfill.js'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { unary } from '../../client/client.js'
import { report, withCluster } from './bench-cluster.js'

// One node running HTTP checks for 10,000 instances at a 10 s interval against
// a local HTTP server: the node's CPU and how late check runs start (p99).
const INSTANCES = Number(process.env.BENCH_CHECKS ?? 10_000)
const MEASURE_S = Number(process.env.BENCH_SECONDS ?? 60)

const server = http.createServer((_req, res) => { res.writeHead(200).end('ok') })
server.keepAliveTimeout = 1000
await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
const port = (server.address() as AddressInfo).port

await withCluster(1, 7950, async cluster => {
  const registry = cluster.clients(1).registry
  const check = { http: { path: '/health' }, interval_ms: 10_000, timeout_ms: 2000 }
  for (let i = 0; i < INSTANCES; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, INSTANCES - i) }, async (_, k) =>
      await unary(registry, 'Register', { instance: { service: `svc${(i + k) % 50}`, instance_id: `i${i + k}`, address: '127.0.0.1', port }, ttl_seconds: 86_400, check })))
  }
  // one full interval for every check's first run (they start at random phases), then measure
  await new Promise(resolve => setTimeout(resolve, 11_000))
  const pid = cluster.node(1).pid!
  const cpu0 = cpuMs(pid)
  const t0 = Date.now()
  await new Promise(resolve => setTimeout(resolve, MEASURE_S * 1000))
  const share = (cpuMs(pid) - cpu0) / (Date.now() - t0)
  const st = await unary<any>(cluster.clients(1).cluster, 'Status', {})
  console.log(`checks: ${st.active_checks} HTTP checks every 10 s on one node for ${MEASURE_S} s: CPU ${(share * 100).toFixed(1)}% of one core, lateness p99 ${Number(st.check_lateness_p99_ms).toFixed(1)} ms`)
  report(`CPU of one node running ${INSTANCES} HTTP checks at 10 s`, `${(share * 100).toFixed(1)}% of a core`, '≤ 50%', share <= 0.5)
  report('check lateness p99', `${Number(st.check_lateness_p99_ms).toFixed(1)} ms`, '≤ 200 ms', st.check_lateness_p99_ms <= 200)
})
server.close()
process.exit(0)

function cpuMs (pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) * 10
}
