import '../../node/polyfill.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import path from 'node:path'
import { connect, unary } from '../../client/client.js'
import type { WireStatus } from '../../client/client.js'
import { defaultEntry } from '../../cluster/launcher.js'
import { nodeRuntimeArgs } from '../../node/runtime-flags.js'
import { report } from './bench-cluster.js'
import { envNum, exitOnSignals, fmtInt, monoMs, sleep, statuses, withStartedCluster } from './bench-util.js'
import { fillCluster, RegisterPool } from './register-pool.js'
import { hasSs, SocketMeter } from './socket-bytes.js'

// Join: a 5-node cluster (local profile) holding BENCH_INSTANCES (100,000)
// instances; a sixth node process is started with --join to the five (and
// an empty data dir): the time from its spawn until its Status.digest equals
// the others' (with every instance), polled every 20 ms. LocalCluster starts
// all its nodes at once, so the sixth is spawned here, on the next two
// ports, and killed by its pid at the end.
const INSTANCES = envNum('BENCH_INSTANCES', 100_000)
const IN_FLIGHT_PER_NODE = envNum('BENCH_IN_FLIGHT', 32)
const FILL_TIMEOUT_S = envNum('BENCH_FILL_TIMEOUT_S', 120)
const WORKERS = envNum('BENCH_WORKERS', 2)
const JOIN_TIMEOUT_MS = envNum('BENCH_JOIN_TIMEOUT_S', 60) * 1000
const BASE_PORT = 8140
const TARGET_MS = 5000

exitOnSignals()
const pool = await RegisterPool.start(WORKERS)
let sixth: ChildProcess | undefined
// never leave the sixth node behind, whatever happens to this process
process.on('exit', () => { if (sixth != null && sixth.exitCode === null && sixth.signalCode === null) sixth.kill('SIGKILL') })
try {
  await withStartedCluster(5, BASE_PORT, async cluster => {
    const nodes = cluster.nodes()
    const clusterClients = nodes.map(n => cluster.clients(n.index).cluster)
    const fill = await fillCluster(pool, nodes.map(n => n.grpc), clusterClients, { total: INSTANCES, inFlightPerNode: IN_FLIGHT_PER_NODE, service: 'join', maxSeconds: FILL_TIMEOUT_S })
    const held = fill.registered
    console.log(`registered ${fmtInt(held)} instances over 5 nodes in ${fill.seconds.toFixed(1)} s (${fill.retried} retried calls); digests agreed ${fill.convergeMs.toFixed(0)} ms after the last answer`)
    await pool.close()
    // a settled cluster: the five agree, nothing is in flight, and the collections that
    // follow a burst (node/memory-reclaimer.ts, 3-5 s after the last write) are done
    await sleep(8000)
    const ref = await statuses(clusterClients)
    if (!ref.every(s => s.digest === ref[0].digest && s.instances === held)) throw new Error('the five nodes do not agree before the join')
    const digest = ref[0].digest

    const grpc = `127.0.0.1:${BASE_PORT + 10}`
    const gossip = `127.0.0.1:${BASE_PORT + 11}`
    const dir = path.dirname(nodes[0].dataDir)
    const dataDir = path.join(dir, 'n6')
    mkdirSync(dataDir, { recursive: true })
    const args = [defaultEntry(), 'node', '--name', 'n6', '--data-dir', dataDir, '--grpc', grpc, '--gossip', gossip,
      '--join', nodes.map(n => n.gossip).join(','), '--cluster', 'local', '--profile', 'local', '--log-level', 'info']
    const log = openSync(path.join(dir, 'n6.log'), 'a')
    const t0 = monoMs()
    try {
      sixth = spawn(process.execPath, [...nodeRuntimeArgs(), ...args], { stdio: ['ignore', log, log] })
    } finally {
      closeSync(log)
    }
    const exited = new Promise<void>(resolve => { sixth?.once('exit', () => { resolve() }) })
    // for reference: what n6 receives on its gossip sockets until it has caught up
    const grpcPorts = new Set([...nodes.map(n => Number(n.grpc.split(':')[1])), BASE_PORT + 10])
    const meter = sixth.pid != null && await hasSs()
      ? new SocketMeter([{ pid: sixth.pid, listenPorts: [BASE_PORT + 11] }], s => !grpcPorts.has(s.localPort) && !grpcPorts.has(s.peerPort), 250)
      : undefined
    await meter?.start()
    const client = connect(grpc, { 'grpc.initial_reconnect_backoff_ms': 20, 'grpc.max_reconnect_backoff_ms': 100 })
    let firstAnswer: number | undefined
    let allAlive: number | undefined
    let firstRecords: number | undefined
    let joined: number | undefined
    let last: WireStatus | undefined
    let polls = 0
    try {
      while (monoMs() - t0 < JOIN_TIMEOUT_MS && sixth.exitCode === null) {
        const round = monoMs()
        polls++
        try {
          last = await unary<WireStatus>(client.cluster, 'Status', {}, { deadlineMs: 1000 })
          const at = monoMs()
          firstAnswer ??= at
          if (allAlive == null && last.members_alive >= 6) allAlive = at
          if (firstRecords == null && last.instances > 0) firstRecords = at
          if (last.digest === digest && last.instances === held) {
            joined = at
            break
          }
        } catch {}
        const pause = 20 - (monoMs() - round)
        if (pause > 0) await sleep(pause)
      }
      const ms = (t: number | undefined): string => t == null ? 'never' : `${(t - t0).toFixed(0)} ms`
      console.log(`n6 spawned: first Status answer after ${ms(firstAnswer)}, sees 6 members ALIVE after ${ms(allAlive)}, first instances after ${ms(firstRecords)}, ` +
        `digest equal to the others' after ${ms(joined)} (${polls} polls; last seen ${fmtInt(last?.instances ?? 0)} instances)`)
      if (joined != null && firstAnswer != null) console.log(`for reference: from n6's first gRPC answer (process start excluded) to the equal digest: ${(joined - firstAnswer).toFixed(0)} ms`)
      const rx = (await meter?.stop())?.get(sixth.pid ?? -1)
      if (rx != null) console.log(`for reference: n6 received ${fmtInt(rx.bytesReceived)} bytes on its gossip sockets by then (${fmtInt(rx.bytesReceived / Math.max(1, held))} per instance held)`)
      const after = await statuses(clusterClients)
      if (!after.every(s => s.digest === digest)) console.log('note: the five changed their digest during the join')
      const value = joined == null ? `> ${JOIN_TIMEOUT_MS / 1000} s` : `${((joined - t0) / 1000).toFixed(2)} s`
      report(`join: 6th node spawned → its digest equals the others' (${fmtInt(held)} instances)`, value, `≤ ${TARGET_MS / 1000} s at ${fmtInt(INSTANCES)}`, held >= INSTANCES && joined != null && joined - t0 <= TARGET_MS)
    } finally {
      client.close()
      if (sixth.exitCode === null && sixth.signalCode === null) {
        sixth.kill('SIGTERM')
        const timer = setTimeout(() => { sixth?.kill('SIGKILL') }, 5000)
        await exited
        clearTimeout(timer)
      }
    }
  })
} finally {
  await pool.close()
}
process.exit(0)
