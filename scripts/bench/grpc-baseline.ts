import '../../node/polyfill.js'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { serviceClients } from '../../node/api/protos.js'
import { startBareGrpc, startBareH2 } from './bare-servers.js'
import { h2Load } from './h2-load.js'
import { hasH2load, runH2load } from './h2load-runner.js'

// The ceilings of the harness: a bare server answering Discover with an empty
// message, loaded exactly like bench:discover loads a node. Two servers: grpc-js
// (the slow path of a node) and node:http2 answering in gRPC's bytes with no
// decoding at all (under the lean path, node/api/lean-grpc.ts).
const PORT = 7990
const servers: Record<string, () => Promise<void>> = {
  'grpc-js': async () => { await startBareGrpc(PORT) },
  'node:http2': async () => { await startBareH2(PORT) }
}

const role = process.argv[2]
if (role != null && role in servers) {
  await servers[role]()
  process.send?.('ready')
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
