import '../../node/polyfill.js'
import { report } from './bench-cluster.js'
import { envNum, exitOnSignals, fmtInt, sleep, withStartedCluster } from './bench-util.js'
import { hasSs, SocketMeter } from './socket-bytes.js'

// Idle gossip: 5 node processes (local profile), no registrations, no API
// calls, for BENCH_SECONDS (30). Each node's traffic is read from the
// kernel's per-socket TCP counters (`ss -tinp`: bytes_sent, bytes_received,
// segs_out, segs_in), summed over the node process's sockets except its gRPC
// ones, sampled every second (so sockets opened or closed in the window
// count too). "On the wire" = TCP payload both ways + 52 bytes of IPv4/TCP
// headers (with timestamps) per segment; payload alone is printed too.
const SECONDS = envNum('BENCH_SECONDS', 30)
const SETTLE_S = envNum('BENCH_SETTLE_S', 5)
const HEADER_BYTES = 52
const TARGET_KBIT = 50

exitOnSignals()
if (!await hasSs()) {
  console.log('`ss` (iproute2) is not available: cannot read per-socket counters')
  report('idle gossip traffic per node', 'not measured (no ss)', `≤ ${TARGET_KBIT} kbit/s`, false)
  process.exit(0)
}
await withStartedCluster(5, 8180, async cluster => {
  const nodes = cluster.nodes()
  const procs = nodes.map(n => ({ pid: n.pid ?? -1, listenPorts: [Number(n.gossip.split(':')[1])] }))
  const grpcPorts = new Set(nodes.map(n => Number(n.grpc.split(':')[1])))
  // startup syncs and the membership's first rounds are not idle traffic
  await sleep(SETTLE_S * 1000)
  const meter = new SocketMeter(procs, s => !grpcPorts.has(s.localPort) && !grpcPorts.has(s.peerPort))
  const t0 = performance.now()
  await meter.start()
  await sleep(SECONDS * 1000)
  const traffic = await meter.stop()
  const elapsedS = (performance.now() - t0) / 1000
  const alive = await cluster.waitAllAlive(5000).then(() => true, () => false)
  const rows: Array<{ name: string, kbit: number, text: string }> = []
  for (const n of nodes) {
    const t = traffic.get(n.pid ?? -1)
    if (t == null) continue
    const payload = t.bytesSent + t.bytesReceived
    const wire = payload + HEADER_BYTES * (t.segsOut + t.segsIn)
    const kbit = (wire * 8) / 1000 / elapsedS
    const text = `${kbit.toFixed(1)} kbit/s`
    console.log(`${n.name}: out ${fmtInt(t.bytesSent / elapsedS)} B/s, in ${fmtInt(t.bytesReceived / elapsedS)} B/s (payload), ` +
      `${fmtInt((t.segsOut + t.segsIn) / elapsedS)} segments/s, ${t.sockets} sockets (${t.opened.toFixed(0)} opened in the window${t.estimatedBytes > 0 ? `, ${fmtInt(t.estimatedBytes / elapsedS)} B/s estimated` : ''}); on the wire ${text} (${(payload * 8 / 1000 / elapsedS).toFixed(1)} kbit/s payload only)`)
    rows.push({ name: n.name, kbit, text })
  }
  if (process.env.BENCH_VERBOSE !== undefined) {
    const nameOfPort = new Map(nodes.map(n => [Number(n.gossip.split(':')[1]), n.name]))
    for (const s of meter.perSocket().sort((a, b) => (a.pid ?? 0) - (b.pid ?? 0) || (a.key < b.key ? -1 : 1))) {
      const node = nodes.find(n => n.pid === s.pid)?.name ?? '(unknown dialler)'
      const inbound = nameOfPort.has(s.socket.localPort)
      const other = inbound ? '(a peer dialled in)' : `dialled ${nameOfPort.get(s.socket.peerPort) ?? s.socket.peer}`
      console.log(`  ${node} ${s.socket.local} ↔ ${s.socket.peer} ${other}${s.closed ? ', closed in the window' : ''}: sent ${fmtInt(s.sent)} B, received ${fmtInt(s.received)} B, ${fmtInt(s.segs)} segments`)
    }
  }
  const opened = [...traffic.values()].reduce((a, t) => a + t.opened, 0)
  console.log(`idle for ${elapsedS.toFixed(1)} s (${meter.samples} samples of ss); ${opened} sockets opened in the window (${(opened / elapsedS).toFixed(1)}/s over 5 nodes)` +
    `${meter.unattributedSockets > 0 ? `; ${meter.unattributedSockets} dialling sockets too short-lived for a sample (${fmtInt(meter.unattributedBytes)} B) were shared out among the nodes they did not dial (estimated)` : ''}${alive ? '' : '; NOTE: not every node saw every other ALIVE at the end'}`)
  for (const r of rows) report(`idle gossip traffic, ${r.name} of 5 (in + out, with TCP/IP headers)`, r.text, `≤ ${TARGET_KBIT} kbit/s`, r.kbit <= TARGET_KBIT)
  if (rows.length === 0) report('idle gossip traffic per node', 'no sockets found', `≤ ${TARGET_KBIT} kbit/s`, false)
})
process.exit(0)
