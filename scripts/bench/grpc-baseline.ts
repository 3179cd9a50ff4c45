import '../../node/polyfill.js'
import { fork } from 'node:child_process'
import http2 from 'node:http2'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { loadProtos, serviceClients } from '../../node/api/protos.js'
import { h2Load } from './h2-load.js'
import { hasH2load, runH2load } from './h2load-runner.js'

// The ceilings of the harness: a bare server answering Discover with an empty
// message, loaded exactly like bench:discover loads a node. Two servers: grpc-js
// (the slow path of a node) and node:http2 answering in gRPC's bytes with no
// decoding at all (under the lean path, node/api/lean-grpc.ts).
const PORT = 7990
const servers: Record<string, () => void> = {
  'grpc-js': () => {
    const g = loadProtos().grpcObject as any
    const server = new grpc.Server()
    server.addService(g.grapevine.v1.Registry.service, { Discover: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => { cb(null, { instances: [] }) } })
    server.bindAsync(`127.0.0.1:${PORT}`, grpc.ServerCredentials.createInsecure(), () => { process.send?.('ready') })
  },
  'node:http2': () => {
    const empty = Buffer.alloc(5)
    const server = http2.createServer()
    server.on('stream', stream => {
      stream.on('data', () => {})
      stream.once('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto' }, { waitForTrailers: true })
        stream.once('wantTrailers', () => { stream.sendTrailers({ 'grpc-status': '0' }) })
        stream.end(empty)
      })
    })
    server.listen(PORT, '127.0.0.1', () => { process.send?.('ready') })
  }
}

const role = process.argv[2]
if (role != null && role in servers) {
  servers[role]()
} else {
  for (const name of Object.keys(servers)) {
    const child = fork(fileURLToPath(import.meta.url), [name])
    try {
      await new Promise(resolve => child.once('message', resolve))
      const method = (serviceClients().Registry as any).service.Discover
      const load = { addr: `127.0.0.1:${PORT}`, path: method.path, message: method.requestSerialize({ service: 'disc' }), inFlight: 64, seconds: 8, connections: 2 }
      const qps = await hasH2load() ? (await runH2load(load)).reqPerS : await h2Load(load).then(r => r.ok / r.elapsedS)
      console.log(`| bare ${name} server, empty Discover answers, 64 in flight | ${Math.round(qps)}/s | for reference | |`)
    } finally {
      child.kill()
      await new Promise(resolve => child.once('exit', resolve))
    }
  }
  process.exit(0)
}
