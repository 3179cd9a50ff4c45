import '../../node/polyfill.js'
import { fork } from 'node:child_process'
import http2 from 'node:http2'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { envNum, fmtInt, medianRssKb, sleep } from './bench-util.js'

// The floor under bench:watch's "memory per idle watch stream": the same
// measurement (the server RSS that BENCH_STREAMS (1,000) more idle streams
// add beside BENCH_STREAMS open ones, / streams) against servers that hold streams and do nothing
// else: a bare node:http2 server, and a bare grpc-js server whose handler
// writes one message and keeps the call. Whatever a Grapevine node adds per
// Watch comes on top of these.
const STREAMS = envNum('BENCH_STREAMS', 1000)
const PATH = '/floor.Floor/Hold'
const FRAME = Buffer.from([0, 0, 0, 0, 1, 7])

type Kind = 'http2' | 'grpc-js'

async function serve (kind: Kind): Promise<number> {
  const held: unknown[] = []
  if (kind === 'http2') {
    const server = http2.createServer()
    server.on('stream', s => {
      held.push(s)
      s.respond({ ':status': 200, 'content-type': 'application/grpc' })
      s.write(FRAME)
    })
    await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
    return (server.address() as { port: number }).port
  }
  const server = new grpc.Server()
  const id = (b: Buffer): Buffer => b
  server.addService({ Hold: { path: PATH, requestStream: false, responseStream: true, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id, originalName: 'Hold' } },
    { Hold: (call: grpc.ServerWritableStream<Buffer, Buffer>) => { held.push(call); call.write(Buffer.from([7])) } })
  return await new Promise((resolve, reject) => { server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => { if (err != null) reject(err); else resolve(port) }) })
}

// Opens `n` streams on one connection; resolves once each has its first message.
async function open (port: number, n: number): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  await Promise.all(Array.from({ length: n }, async () => await new Promise<void>((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc', te: 'trailers' })
    req.end(FRAME)
    req.once('data', () => { resolve() })
    req.once('error', reject)
  })))
  return session
}

if (process.argv[2] === 'server') {
  const port = await serve(process.argv[3] as Kind)
  process.send?.({ port })
} else {
  for (const kind of ['http2', 'grpc-js'] as const) {
    const child = fork(fileURLToPath(import.meta.url), ['server', kind])
    try {
      const { port } = await new Promise<{ port: number }>(resolve => child.once('message', resolve as (m: unknown) => void))
      const pid = child.pid ?? -1
      await sleep(1000)
      const before = await medianRssKb(pid, 7, 200)
      const first = await open(port, STREAMS)
      await sleep(3000)
      const mid = await medianRssKb(pid, 7, 200)
      const second = await open(port, STREAMS)
      await sleep(3000)
      const after = await medianRssKb(pid, 7, 200)
      console.log(`bare ${kind} server holding idle streams: ${((after - before) / (2 * STREAMS)).toFixed(1)} KB RSS per stream over ${fmtInt(2 * STREAMS)} ` +
        `(the first ${fmtInt(STREAMS)}: ${((mid - before) / STREAMS).toFixed(1)} KB on average, the next ${fmtInt(STREAMS)}: ${((after - mid) / STREAMS).toFixed(1)} KB)`)
      first.destroy()
      second.destroy()
    } finally {
      child.kill()
    }
  }
  process.exit(0)
}
