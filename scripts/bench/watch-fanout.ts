import '../../node/polyfill.js'
import { fork, type ChildProcess } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, openWatch, unary } from '../../client/client.js'
import { serviceClients } from '../../node/api/protos.js'
import type { WireWatchEvent } from '../../client/client.js'
import { percentile, report } from './bench-cluster.js'
import { cpuSeconds, envNum, exitOnSignals, fmtInt, fmtMb, medianRssKb, monoMs, sleep, withStartedCluster } from './bench-util.js'

// Watch fan-out on one node of a BENCH_NODES (3) node cluster: BENCH_STREAMS
// (1,000) Watch streams of one service, held by BENCH_WATCH_WORKERS (4)
// forked processes; BENCH_RATE (20) registrations a second on that node for
// BENCH_SECONDS (15), after BENCH_WARMUP_S (2) of the same. For each change:
// the time from its Register call to the moment the LAST of the streams got
// its UPSERT (p99 ≤ 100 ms). And the node's memory per idle stream
// (≤ 10 KB): what 2 × BENCH_STREAMS idle streams add to its VmRSS, per
// stream (the first BENCH_STREAMS' average, which carries the one-time
// growth, printed for reference). Times are CLOCK_MONOTONIC in every process
// (monoMs), so the workers' arrival times compare with the parent's.
const NODES = envNum('BENCH_NODES', 3)
const STREAMS = envNum('BENCH_STREAMS', 1000)
const WORKERS = envNum('BENCH_WATCH_WORKERS', 4)
const CHANNELS = envNum('BENCH_WATCH_CHANNELS', 1)
const RATE = envNum('BENCH_RATE', 20)
const SECONDS = envNum('BENCH_SECONDS', 15)
// the first changes to 1,000 streams run cold code on the node and in the workers (measured: the
// first 10 took 88-165 ms, the rest at most 62): they are sent, checked and reported, not counted in p99
const WARMUP_S = envNum('BENCH_WARMUP_S', 2)
// long enough for the node's reclaimer (quiet for 3 s, then a full collection) to have run:
// each RSS sample is taken once the node has settled, so it shows what is held, not the garbage
const SETTLE_S = envNum('BENCH_SETTLE_S', 8)
// lean: node:http2 without decoding events (see watch-worker.ts); grpc-js: the stock client, for comparison
const CLIENT = process.env.BENCH_WATCH_CLIENT === 'grpc-js' ? 'grpc-js' : 'lean'
const SERVICE = 'fan'
const ID_PREFIX = 'chg-'
const ID_WIDTH = 6
const idOf = (n: number): string => `${ID_PREFIX}${String(n).padStart(ID_WIDTH, '0')}`

interface Report { arrivals: Array<[string, number, number]>, synced: number, errors: number, firstError?: string }

class WatchWorkers {
  private readonly workers: ChildProcess[] = []

  get pids (): number[] {
    return this.workers.map(w => w.pid ?? -1)
  }

  static async start (n: number): Promise<WatchWorkers> {
    const w = new WatchWorkers()
    const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'watch-worker.js')
    process.on('exit', () => { for (const c of w.workers) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL') })
    for (let k = 0; k < n; k++) w.workers.push(fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
    await Promise.all(w.workers.map(async c => await w.next(c, 'ready', 30_000)))
    return w
  }

  /** Waits for the next message of `type` from one worker. */
  private async next<T> (c: ChildProcess, type: string, timeoutMs: number): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      const onMessage = (m: { type?: string }): void => { if (m.type === type) { done(); resolve(m as T) } }
      const onExit = (code: number | null): void => { done(); reject(new Error(`watch worker exited with ${code}`)) }
      const timer = setTimeout(() => { done(); reject(new Error(`watch worker: no "${type}" in ${timeoutMs} ms`)) }, timeoutMs)
      const done = (): void => { clearTimeout(timer); c.off('message', onMessage); c.off('exit', onExit) }
      c.on('message', onMessage)
      c.once('exit', onExit)
    })
  }

  async open (addr: string, total: number): Promise<void> {
    await Promise.all(this.workers.map(async (c, k) => {
      const streams = Math.floor(total / this.workers.length) + (k < total % this.workers.length ? 1 : 0)
      const opened = this.next(c, 'opened', 30_000)
      const method = (serviceClients().Registry as any).service.Watch
      c.send({
        cmd: 'open',
        addr,
        path: method.path,
        request: (method.requestSerialize({ service: SERVICE }) as Buffer).toString('base64'),
        service: SERVICE,
        streams,
        channels: CHANNELS,
        client: CLIENT,
        idPrefix: ID_PREFIX,
        idWidth: ID_WIDTH
      })
      await opened
    }))
  }

  async reports (cmd: 'status' | 'report'): Promise<Report[]> {
    return await Promise.all(this.workers.map(async c => {
      const r = this.next<Report>(c, cmd, 30_000)
      c.send({ cmd })
      return await r
    }))
  }

  async close (): Promise<void> {
    await Promise.all(this.workers.map(async c => {
      if (c.exitCode !== null || c.signalCode !== null) return
      const exited = new Promise<void>(resolve => { c.once('exit', () => { resolve() }) })
      try { c.send({ cmd: 'close' }) } catch {}
      const timer = setTimeout(() => { c.kill('SIGKILL') }, 2000)
      await exited
      clearTimeout(timer)
    }))
  }
}

// Opens `streams` more watches and waits until `expected` in all have SYNCED.
async function openSynced (workers: WatchWorkers, addr: string, name: string, streams: number, expected: number): Promise<void> {
  const tOpen = monoMs()
  await workers.open(addr, streams)
  let st: Report[] = []
  while (monoMs() - tOpen < 60_000) {
    st = await workers.reports('status')
    if (st.reduce((s, r) => s + r.synced + r.errors, 0) >= expected) break
    await sleep(100)
  }
  const synced = st.reduce((s, r) => s + r.synced, 0)
  const openErrors = st.reduce((s, r) => s + r.errors, 0)
  if (synced < expected) throw new Error(`only ${synced} of ${expected} watches SYNCED (${openErrors} errors; first: ${st.find(r => r.firstError != null)?.firstError ?? '-'})`)
  console.log(`${streams} watches on ${name} SYNCED in ${(monoMs() - tOpen).toFixed(0)} ms, ${expected} in all (${WORKERS} worker processes, ${CHANNELS} connection(s) each, ${CLIENT} client)`)
}

exitOnSignals()
await withStartedCluster(NODES, 8160, async cluster => {
  const node = cluster.node(1)
  const registry = cluster.clients(1).registry
  const pid = node.pid ?? NaN
  // warm the Register path and the node's heap a little before the baseline
  for (let k = 0; k < 50; k++) await unary(registry, 'Register', { instance: { service: 'warm', instance_id: `w${k}`, address: '10.3.0.1', port: 1000 + k }, ttl_seconds: 600 })
  const workers = await WatchWorkers.start(WORKERS)
  try {
    await sleep(SETTLE_S * 1000)
    const before = await medianRssKb(pid, 7, 200)
    await openSynced(workers, node.grpc, node.name, STREAMS, STREAMS)
    await sleep(SETTLE_S * 1000)
    const after = await medianRssKb(pid, 7, 200)
    const averageKb = (after - before) / STREAMS
    console.log(`${node.name} RSS ${fmtMb(before)} before, ${fmtMb(after)} with ${STREAMS} idle watches: ${(averageKb * 1024).toFixed(0)} bytes per stream on average`)

    // memory per stream: STREAMS more idle streams, then the RSS over the baseline without
    // any, per stream. Both averages carry one-time growth (V8's young generation, HTTP/2 and
    // gRPC buffers sized once). Measured before the changes, so that no sample carries their
    // garbage; these extra streams are closed before the changes
    const extra = await WatchWorkers.start(WORKERS)
    let perStreamKb: number
    try {
      await openSynced(extra, node.grpc, node.name, STREAMS, STREAMS)
      await sleep(SETTLE_S * 1000)
      const after2 = await medianRssKb(pid, 7, 200)
      // over all of them, from the baseline without streams: what the next 1,000 add alone
      // swings from nothing to twice the average with where V8 and malloc had grown already
      perStreamKb = (after2 - before) / (2 * STREAMS)
      console.log(`${node.name} RSS ${fmtMb(after)} with ${STREAMS} watches, ${fmtMb(after2)} with ${2 * STREAMS} idle: ${(perStreamKb * 1024).toFixed(0)} bytes per stream over ${2 * STREAMS} ` +
        `(the next ${STREAMS} alone: ${((after2 - after) / STREAMS * 1024).toFixed(0)} bytes each)`)
    } finally {
      await extra.close()
    }
    // the node tears 1,000 streams down: the changes start once that is over
    await sleep(SETTLE_S * 1000)

    // for reference: one more watch, in this process, on its own connection (no worker in between)
    const own = new Map<string, number>()
    const refClient = connect(node.grpc, { 'grpc.use_local_subchannel_pool': 1 })
    const refWatch = openWatch(refClient.registry, { service: SERVICE })
    refWatch.on('data', (ev: WireWatchEvent) => { const id = ev.instance?.instance_id; if (ev.type === 'UPSERT' && id != null && !own.has(id)) own.set(id, monoMs()) })
    refWatch.on('error', () => {})
    await sleep(500)

    // the changes: RATE a second, paced by the schedule
    const warm = Math.round(RATE * WARMUP_S)
    const total = Math.round(RATE * SECONDS)
    // when each change was sent, and whether it belongs to the warm-up
    const sent = new Map<string, { at: number, warm: boolean }>()
    const callLat: number[] = []
    const calls: Array<Promise<unknown>> = []
    let callErrors = 0
    // CPU of the node and of the watch workers over the changes: which side keeps up
    const cpu0 = [pid, ...workers.pids].map(cpuSeconds)
    const t0 = monoMs()
    for (let n = 0; n < warm + total; n++) {
      const wait = t0 + (n * 1000) / RATE - monoMs()
      if (wait > 0) await sleep(wait)
      const id = idOf(n)
      const s = { at: monoMs(), warm: n < warm }
      sent.set(id, s)
      calls.push(unary(registry, 'Register', { instance: { service: SERVICE, instance_id: id, address: '10.4.0.1', port: 1 + n, tags: ['blue'] }, ttl_seconds: 600 })
        .then(() => { if (!s.warm) callLat.push(monoMs() - s.at) }, () => { callErrors++ }))
    }
    await Promise.all(calls)
    // wait until every stream has every change (or give up after 30 s)
    let reps: Report[] = []
    const tWait = monoMs()
    const complete = (): boolean => [...sent.keys()].every(id => reps.reduce((s, r) => s + (r.arrivals.find(a => a[0] === id)?.[2] ?? 0), 0) >= STREAMS)
    while (monoMs() - tWait < 30_000) {
      reps = await workers.reports('report')
      if (complete()) break
      await sleep(250)
    }
    const cpuS = [pid, ...workers.pids].map((p, k) => cpuSeconds(p) - cpu0[k])
    const wallS = (monoMs() - t0) / 1000
    console.log(`for reference: CPU over the ${wallS.toFixed(1)} s of changes and delivery: node ${node.name} ${(100 * cpuS[0] / wallS).toFixed(0)}% of a core, ` +
      `watch workers ${cpuS.slice(1).map(c => `${(100 * c / wallS).toFixed(0)}%`).join(' ')}; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`)
    const last = new Map<string, { at: number, count: number }>()
    for (const r of reps) {
      for (const [id, at, count] of r.arrivals) {
        const cur = last.get(id)
        last.set(id, { at: Math.max(cur?.at ?? 0, at), count: (cur?.count ?? 0) + count })
      }
    }
    const lat: number[] = []
    const coldLat: number[] = []
    let incomplete = 0
    for (const [id, s] of sent) {
      const a = last.get(id)
      if (a == null || a.count < STREAMS) { incomplete++; continue }
      if (s.warm) coldLat.push(a.at - s.at)
      else lat.push(a.at - s.at)
    }
    lat.sort((a, b) => a - b)
    coldLat.sort((a, b) => a - b)
    refWatch.cancel()
    refClient.close()
    // the reference figures leave the warm-up out too
    const ownLat: number[] = []
    for (const [id, at] of own) {
      const s = sent.get(id)
      if (s != null && !s.warm) ownLat.push(at - s.at)
    }
    ownLat.sort((a, b) => a - b)
    callLat.sort((a, b) => a - b)
    console.log(`for reference: the Register call p50 ${percentile(callLat, 50).toFixed(1)} ms p99 ${percentile(callLat, 99).toFixed(1)} ms; ` +
      `Register → UPSERT on one extra watch in this process p50 ${percentile(ownLat, 50).toFixed(1)} ms p99 ${percentile(ownLat, 99).toFixed(1)} ms`)
    const streamErrors = reps.reduce((s, r) => s + r.errors, 0)
    const p99 = lat.length === total && incomplete === 0 ? percentile(lat, 99) : Infinity
    if (coldLat.length > 0) console.log(`warm-up, not counted: the first ${warm} changes (${WARMUP_S} s) p50 ${percentile(coldLat, 50).toFixed(1)} ms, max ${coldLat[coldLat.length - 1].toFixed(1)} ms`)
    console.log(`${total} changes at ${RATE}/s on ${node.name}, each to ${STREAMS} watches: Register → UPSERT on the last watch ` +
      `p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms, max ${lat[lat.length - 1]?.toFixed(1) ?? '-'} ms; ` +
      `${incomplete} changes (warm-up included) missed by some watch, ${streamErrors} stream errors${streamErrors > 0 ? ` (first: ${reps.find(r => r.firstError != null)?.firstError ?? ''})` : ''}, ${callErrors} failed Registers`)
    report(`watch fan-out: Register → UPSERT on the last of ${fmtInt(STREAMS)} watches, p99 (${RATE} changes/s)`, Number.isFinite(p99) ? `${p99.toFixed(1)} ms` : `${incomplete} changes never reached every watch`, '≤ 100 ms', p99 <= 100)

    report(`memory per idle watch stream (RSS with ${fmtInt(2 * STREAMS)} idle streams over none, per stream)`, `${perStreamKb.toFixed(1)} KB (first ${fmtInt(STREAMS)}: ${averageKb.toFixed(1)} KB on average)`, '≤ 10 KB', perStreamKb <= 10)
  } finally {
    await workers.close()
  }
})
process.exit(0)
