import '../../node/polyfill.js'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { loadProtos, serviceClients } from '../../node/api/protos.js'
import { h2Load } from './h2-load.js'
import { hasH2load, runH2load } from './h2load-runner.js'

// The ceiling of the harness: a bare grpc-js server answering Discover with an
// empty message, loaded exactly like bench:discover loads a node.
if (process.argv[2] === 'server') {
  const g = loadProtos().grpcObject as any
  const server = new grpc.Server()
  server.addService(g.grapevine.v1.Registry.service, { Discover: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => { cb(null, { instances: [] }) } })
  server.bindAsync('127.0.0.1:7990', grpc.ServerCredentials.createInsecure(), () => { process.send?.('ready') })
} else {
  const child = fork(fileURLToPath(import.meta.url), ['server'])
  try {
    await new Promise(resolve => child.once('message', resolve))
    const method = (serviceClients().Registry as any).service.Discover
    const load = { addr: '127.0.0.1:7990', path: method.path, message: method.requestSerialize({ service: 'disc' }), inFlight: 64, seconds: 8, connections: 2 }
    const qps = await hasH2load() ? (await runH2load(load)).reqPerS : await h2Load(load).then(r => r.ok / r.elapsedS)
    console.log(`bare grpc-js server, empty answers, 64 in flight: ${Math.round(qps)}/s`)
  } finally {
    child.kill()
  }
  process.exit(0)
}
