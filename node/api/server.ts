import * as grpc from '@grpc/grpc-js'
import { ReflectionService } from '@grpc/reflection'
import type { UntypedServiceImplementation } from '@grpc/grpc-js'
import { passThrough } from './encoded.js'
import { serveLean } from './lean-grpc.js'
import type { StreamOut } from './stream-out.js'
import { loadProtos } from './protos.js'

/** The services a node serves, by their handlers. */
export interface ServerHandlers {
  readonly registry: UntypedServiceImplementation
  /** Watch as the lean path opens it (registry-service.ts watchOpener) */
  readonly watch: (request: unknown, out: StreamOut) => void
  readonly cluster: UntypedServiceImplementation
  readonly health: UntypedServiceImplementation
}

const MAX_RECEIVE_BYTES = 4 * 1024 * 1024
// the hot reads, and the writes every client repeats (a fleet heartbeats all the time)
const LEAN_UNARY = ['Discover', 'Pick', 'Register', 'Heartbeat', 'Deregister']

/** Creates the gRPC server with Registry, Cluster, Health and server reflection. */
export function createGrpcServer (h: ServerHandlers): grpc.Server {
  const { definition, grpcObject } = loadProtos()
  const g = grpcObject as any
  const registry = withPassThrough(g.grapevine.v1.Registry.service, ['Discover', 'Pick', 'Watch'])
  const server = new grpc.Server({
    // a slow client must not hold a node's memory: cap what one message may be
    'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_permit_without_calls': 1
    // channelz stays on: grpc-js's forceShutdown finds the sessions it cuts through it (with it off a
    // call outlived the stop); its per-call cost is gone with the hot methods on the lean path
  })
  server.addService(registry, h.registry)
  // these and Watch skip grpc-js's per-call machinery (lean-grpc.ts)
  serveLean(server, {
    unary: LEAN_UNARY.map(name => ({ ...registry[name], handler: h.registry[name] as grpc.handleUnaryCall<any, any> })),
    serverStream: [{ ...registry.Watch, open: h.watch }]
  }, MAX_RECEIVE_BYTES)
  server.addService(g.grapevine.v1.Cluster.service, h.cluster)
  server.addService(g.grpc.health.v1.Health.service, h.health)
  new ReflectionService(definition).addToServer(server)
  return server
}

// hot answers are encoded ahead of time (see encoded.ts): their serializers let those bytes through
function withPassThrough (service: grpc.ServiceDefinition, methods: string[]): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<any, any>> = { ...service }
  for (const m of methods) out[m] = { ...service[m], responseSerialize: passThrough(service[m].responseSerialize) }
  return out
}

/** Binds insecurely to host:port (port 0 picks one); returns the port bound. */
export async function bind (server: grpc.Server, host: string, port: number): Promise<number> {
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  return await new Promise((resolve, reject) => {
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, bound) => { err != null ? reject(err) : resolve(bound) })
  })
}

/** Stops accepting calls, lets running ones finish for `graceMs`, then cuts the rest. */
export async function shutdown (server: grpc.Server, graceMs: number): Promise<void> {
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => { server.forceShutdown(); resolve() }, graceMs)
    server.tryShutdown(() => { clearTimeout(timer); resolve() })
  })
}
