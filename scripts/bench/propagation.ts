import '../../node/polyfill.js'
import http2 from 'node:http2'
import { Worker } from 'node:worker_threads'
import { unary } from '../../client/client.js'
import type { LocalCluster } from '../../cluster/launcher.js'
import { percentile, report, withCluster } from './bench-cluster.js'
import { cpuSeconds, monoMs, stealMeter } from './bench-util.js'
import type { WatchThreadReply, WatchThreadRequest } from './watch-thread.js'
import type { WatchClient } from './watch-timer.js'
import { grpcHeaders, leanUnary } from './lean-grpc.js'
import { serviceClients } from '../../node/api/protos.js'

// 5 node processes; 100 registrations a second for 30 s on node 1; the time
// from each Register call to its UPSERT on a Watch on every other node. The
// watches run on their own thread (watch-thread.ts). BENCH_CLIENT=lean (the
// default): the Registers and the watches speak gRPC over node:http2
// themselves (lean-grpc.ts), as h2load does for bench:register; grpc-js: the
// stock client, whose own cost (about 0.2 ms a call on each side, on the
// cores the nodes use) is then part of the figure.
const RATE = Number(process.env.BENCH_RATE ?? 100)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30)
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 30)
const CLIENT: WatchClient = process.env.BENCH_CLIENT === 'grpc-js' ? 'grpc-js' : 'lean'

/** The watch thread, seen from here: one request at a time. */
class WatchThread {
  readonly ready: Promise<void>
  private readonly worker: Worker
  private waiting: ((r: WatchThreadReply) => void) | undefined

  constructor (addrs: string[], service: string) {
    this.worker = new Worker(new URL('./watch-thread.js', import.meta.url), { workerData: { addrs, service, client: CLIENT } })
    this.worker.on('message', (r: WatchThreadReply) => { this.waiting?.(r) })
    this.ready = this.next().then(() => {})
  }

  /** Each watch's arrivals (id, monoMs) of ids starting with `prefix`, once every open one has `count`. */
  async collect (prefix: string, count: number): Promise<Array<Array<[string, number]>>> {
    const answer = this.next()
    this.send({ type: 'collect', prefix, count })
    const r = await answer
    if (r.type !== 'arrivals') throw new Error(`watch thread answered ${r.type}`)
    return r.perWatch
  }

  close (index: number): void {
    this.send({ type: 'close', index })
  }

  async stop (): Promise<void> {
    await this.worker.terminate()
  }

  private send (req: WatchThreadRequest): void {
    this.worker.postMessage(req)
  }

  private async next (): Promise<WatchThreadReply> {
    return await new Promise((resolve, reject) => {
      this.waiting = r => {
        this.waiting = undefined
        if (r.type === 'error') reject(new Error(r.message))
        else resolve(r)
      }
    })
  }
}

/**
 * `count` Registers on node 1 at RATE a second, paced by the schedule, not
 * by the previous call (a slow call does not slow the load); `sent` gets
 * each id and when its call started (monoMs). Returns the calls'
 * latencies, sorted.
 */
async function registerPaced (cluster: LocalCluster, prefix: string, count: number, sent: (id: string, at: number) => void): Promise<number[]> {
  const register = registerCall(cluster)
  const started = monoMs()
  const calls: Array<Promise<unknown>> = []
  const lat: number[] = []
  for (let n = 0; n < count; n++) {
    const wait = started + (n * 1000) / RATE - monoMs()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    const id = `${prefix}${n}`
    const t = monoMs()
    sent(id, t)
    calls.push(register.call({ instance: { service: 'bench', instance_id: id, address: '10.1.0.1', port: 1 + (n % 60000) }, ttl_seconds: 600 })
      .then(() => { lat.push(monoMs() - t) }))
  }
  try {
    await Promise.all(calls)
  } finally {
    register.close()
  }
  return lat.sort((a, b) => a - b)
}

/** Register on node 1 through CLIENT (either way the request is encoded inside the timed call). */
function registerCall (cluster: LocalCluster): { call: (req: object) => Promise<void>, close: () => void } {
  if (CLIENT === 'grpc-js') return { call: async req => { await unary(cluster.clients(1).registry, 'Register', req) }, close: () => {} }
  const method = (serviceClients().Registry as any).service.Register
  const headers = grpcHeaders(method.path)
  const session = http2.connect(`http://${cluster.node(1).grpc}`)
  session.on('error', () => {})
  return { call: async req => { await leanUnary(session, headers, method.requestSerialize(req) as Buffer, 10_000) }, close: () => { session.close() } }
}

await withCluster(5, 7800, async cluster => {
  // watch 0 is on the owner itself: no gossip hop, only gRPC in and out (the floor of this
  // harness); it is open during the warm-up only, so that the measured run has just the four
  const watches = new WatchThread([1, 2, 3, 4, 5].map(i => cluster.node(i).grpc), 'bench')
  try {
    await watches.ready
    // V8 compiles the hot paths of six processes over the first tens of seconds of this load (TurboFan
    // kept working through a 30 s run); a node serving for days runs the compiled code, so the same
    // load runs first, uncounted, under other instance ids, until every watch has seen it
    const warm = WARMUP_S * RATE
    const warmSent = new Map<string, number>()
    await registerPaced(cluster, 'w', warm, (id, at) => { warmSent.set(id, at) })
    const [owner] = await watches.collect('w', warm)
    watches.close(0)
    // the floor from the warm-up's second half, when the code is warm
    const floor = owner.filter(([id]) => Number(id.slice(1)) >= warm / 2).map(([id, at]) => at - (warmSent.get(id) ?? at)).sort((a, b) => a - b)
    const sent = new Map<string, number>()
    const total = RATE * SECONDS
    const steal = stealMeter()
    // the same work costs more CPU time when the host is busy (0.28 against 0.65 ms a registration in
    // bench:register, half an hour apart): the CPU per registration shows which kind of stretch this was
    const nodeCpu = (): number => cluster.nodes().reduce((a, n) => a + cpuSeconds(n.pid ?? -1), 0)
    const cpu0 = nodeCpu()
    const callLat = await registerPaced(cluster, 'i', total, (id, at) => { sent.set(id, at) })
    const cpuPerReg = 1000 * (nodeCpu() - cpu0) / total
    const stolen = steal()
    const lat = (await watches.collect('i', total)).slice(1).flat().map(([id, at]) => at - (sent.get(id) ?? at)).sort((a, b) => a - b)
    const p50 = percentile(lat, 50)
    const p99 = percentile(lat, 99)
    console.log(`propagation: ${total} registrations at ${RATE}/s on node 1 after ${warm} uncounted (${WARMUP_S} s), ${lat.length} UPSERTs on 4 watches (${CLIENT} client)`)
    console.log(`p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${lat[lat.length - 1].toFixed(2)} ms`)
    console.log(`for reference: the Register call itself p50 ${percentile(callLat, 50).toFixed(2)} ms p99 ${percentile(callLat, 99).toFixed(2)} ms; ` +
      `Register → UPSERT on a watch on the owner (no gossip hop; second half of the warm-up) p50 ${percentile(floor, 50).toFixed(2)} ms p99 ${percentile(floor, 99).toFixed(2)} ms; ` +
      `CPU per registration, all 5 nodes (background work included): ${cpuPerReg.toFixed(2)} ms; stolen by the hypervisor during the run: ${stolen.toFixed(1)}% of the machine's CPU time`)
    report('propagation p50 (Register → Watch UPSERT on 4 other nodes)', `${p50.toFixed(2)} ms`, '≤ 3 ms', p50 <= 3)
    report('propagation p99', `${p99.toFixed(2)} ms`, '≤ 20 ms', p99 <= 20)
  } finally {
    await watches.stop()
  }
})
process.exit(0)
