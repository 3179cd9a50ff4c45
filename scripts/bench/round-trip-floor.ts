import '../../node/polyfill.js'
import { fork } from 'node:child_process'
import http2 from 'node:http2'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { grpcFrame } from '../../node/api/encoded.js'
import { serviceClients } from '../../node/api/protos.js'
import { startBareGrpc, startBareH2 } from './bare-servers.js'
import { percentile } from './bench-cluster.js'
import { envNum, sleep } from './bench-util.js'

// The floor under bench:propagation on this machine: one request and its
// answer between two idle processes over loopback, paced like that
// benchmark (one every BENCH_GAP_MS, 10), by the layers a Register and its
// Watch event pass through: a TCP echo, node:http2 with a gRPC-shaped
// exchange, and grpc-js with an empty Discover. No node of ours runs.
// For reference only: no target.
const ROUNDS = envNum('BENCH_ROUNDS', 500)
const GAP_MS = envNum('BENCH_GAP_MS', 10)
const TCP_PORT = 7993
const H2_PORT = 7994
const GRPC_PORT = 7995
// an empty gRPC message: no compression, length 0
const EMPTY_FRAME = grpcFrame(Buffer.alloc(0))

if (process.argv[2] === 'server') {
  net.createServer(s => { s.setNoDelay(true); s.on('data', d => s.write(d)) }).listen(TCP_PORT, '127.0.0.1')
  await startBareH2(H2_PORT)
  await startBareGrpc(GRPC_PORT)
  process.send?.('ready')
} else {
  const child = fork(fileURLToPath(import.meta.url), ['server'])
  try {
    await new Promise((resolve, reject) => {
      child.once('message', resolve)
      child.once('exit', code => { reject(new Error(`the server process exited with ${code} before it was ready`)) })
    })
    await measure('TCP echo, 1 byte', tcpRoundTrip())
    await measure('node:http2 request, empty gRPC answer', h2RoundTrip())
    await measure('grpc-js unary, empty Discover answer', grpcRoundTrip())
  } finally {
    child.kill()
  }
  process.exit(0)
}

/** Times ROUNDS round trips, one every GAP_MS (after 50 unpaced ones to warm up), and prints p50/p99. */
async function measure (name: string, roundTrip: () => Promise<void>): Promise<void> {
  for (let k = 0; k < 50; k++) await roundTrip()
  const lat: number[] = []
  for (let k = 0; k < ROUNDS; k++) {
    const t = performance.now()
    await roundTrip()
    lat.push(performance.now() - t)
    await sleep(GAP_MS)
  }
  lat.sort((a, b) => a - b)
  // a row of bench:all's table, with no target
  console.log(`| round trip between two idle processes, ${name}, one every ${GAP_MS} ms | p50 ${percentile(lat, 50).toFixed(2)} ms, p99 ${percentile(lat, 99).toFixed(2)} ms | for reference | |`)
}

function tcpRoundTrip (): () => Promise<void> {
  const socket = net.connect(TCP_PORT, '127.0.0.1')
  socket.setNoDelay(true)
  let answered: () => void = () => {}
  socket.on('data', () => { answered() })
  return async () => await new Promise<void>(resolve => {
    answered = resolve
    socket.write('x')
  })
}

function h2RoundTrip (): () => Promise<void> {
  const session = http2.connect(`http://127.0.0.1:${H2_PORT}`)
  const headers = { ':method': 'POST', ':path': '/grapevine.v1.Registry/Discover', 'content-type': 'application/grpc', te: 'trailers' }
  return async () => await new Promise<void>((resolve, reject) => {
    const req = session.request(headers)
    req.on('data', () => {})
    req.on('error', reject)
    req.on('close', resolve)
    req.end(EMPTY_FRAME)
  })
}

function grpcRoundTrip (): () => Promise<void> {
  const Registry = serviceClients().Registry as unknown as new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client
  const client = new Registry(`127.0.0.1:${GRPC_PORT}`, grpc.credentials.createInsecure()) as any
  return async () => await new Promise<void>((resolve, reject) => {
    client.Discover({ service: 'x' }, (err: Error | null) => { if (err != null) reject(err); else resolve() })
  })
}
