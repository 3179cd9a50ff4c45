import http2 from 'node:http2'
import * as grpc from '@grpc/grpc-js'
import { grpcFrame } from '../../node/api/encoded.js'
import { loadProtos } from '../../node/api/protos.js'

// The reference servers of bench:grpc-baseline and bench:round-trip: no node of
// ours, only the layer under it, answering every call with an empty message.

/** node:http2 answering any request, once it ended, in gRPC's bytes: an empty message, then status 0. */
export async function startBareH2 (port: number): Promise<void> {
  const empty = grpcFrame(Buffer.alloc(0))
  const server = http2.createServer()
  server.on('stream', stream => {
    stream.on('data', () => {})
    stream.once('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto' }, { waitForTrailers: true })
      stream.once('wantTrailers', () => { stream.sendTrailers({ 'grpc-status': '0' }) })
      stream.end(empty)
    })
  })
  await new Promise<void>(resolve => { server.listen(port, '127.0.0.1', resolve) })
}

/** grpc-js serving Registry.Discover with an empty answer. */
export async function startBareGrpc (port: number): Promise<void> {
  const g = loadProtos().grpcObject as any
  const server = new grpc.Server()
  server.addService(g.grapevine.v1.Registry.service, { Discover: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => { cb(null, { instances: [] }) } })
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), err => { err != null ? reject(err) : resolve() })
  })
}
