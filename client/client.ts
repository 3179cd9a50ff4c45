import * as grpc from '@grpc/grpc-js'
import { serviceClients } from '../node/api/protos.js'
import { InvalidArgumentError } from '../node/errors.js'

/**
 * Wire shapes as `LOADER_OPTIONS` decodes them: snake_case fields, enums as
 * their names, int64 as numbers, bytes as Buffers, defaults filled in.
 */
export interface WireInstance {
  service: string
  instance_id: string
  address: string
  port: number
  protocol: string
  version: string
  tags: string[]
  metadata: Record<string, string>
  weight: number
  zone: string
  status: string
  owner_node: string
  registered_at_ms: number
  updated_at_ms: number
}

/** One event of Registry.Watch; `instance` is null on SYNCED. */
export interface WireWatchEvent {
  type: 'UPSERT' | 'DELETE' | 'SYNCED' | 'RESET' | 'WATCH_EVENT_TYPE_UNSPECIFIED'
  instance: WireInstance | null
  resume_token: Buffer
}

/** One row of Cluster.Members. */
export interface WireMember {
  node_id: string
  name: string
  grpc_address: string
  gossip_address: string
  state: 'ALIVE' | 'SUSPECT' | 'DEAD' | 'LEFT' | 'MEMBER_STATE_UNSPECIFIED'
  incarnation: number
}

/** Cluster.Status's answer. */
export interface WireStatus {
  node_id: string
  members_alive: number
  instances: number
  digest: string
  version_vector: Buffer
  name: string
}

/** The three service clients of one node, over insecure credentials. */
export interface GrapevineClients {
  readonly registry: grpc.Client
  readonly cluster: grpc.Client
  readonly health: grpc.Client
  /** Closes all three clients; safe to call twice. */
  close: () => void
}

/** Options of {@link unary}. */
export interface UnaryOptions {
  /** Deadline of the call from now; default 5000. */
  deadlineMs?: number
}

/** Deadline used by {@link unary} when the caller names none. */
export const DEFAULT_DEADLINE_MS = 5000

/**
 * Connects to a node's gRPC API at `addr` ("host:port"). Nothing is dialled
 * until the first call. `options` are passed to every channel, e.g. shorter
 * reconnect backoff for tests that restart nodes.
 */
export function connect (addr: string, options: grpc.ChannelOptions = {}): GrapevineClients {
  const { Registry, Cluster, Health } = serviceClients()
  const credentials = grpc.credentials.createInsecure()
  const registry = new Registry(addr, credentials, options)
  const cluster = new Cluster(addr, credentials, options)
  const health = new Health(addr, credentials, options)
  return {
    registry,
    cluster,
    health,
    close: () => {
      registry.close()
      cluster.close()
      health.close()
    }
  }
}

/**
 * Calls a unary method (`'Register'`, `'Members'`...) and resolves with the
 * response; rejects with the grpc-js ServiceError (`code`, `details`).
 */
export async function unary<Res = any> (client: grpc.Client, method: string, request: object, options: UnaryOptions = {}): Promise<Res> {
  const fn = (client as unknown as Record<string, unknown>)[method]
  if (typeof fn !== 'function') throw new Error(`client has no method ${method}`)
  const deadline = Date.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS)
  return await new Promise<Res>((resolve, reject) => {
    fn.call(client, request, new grpc.Metadata(), { deadline }, (err: grpc.ServiceError | null, res: Res) => {
      if (err != null) reject(err)
      else resolve(res)
    })
  })
}

/** Opens Registry.Watch; the stream emits WireWatchEvent objects until cancelled. */
export function openWatch (registry: grpc.Client, request: { service?: string, tags?: string[], resume_token?: Uint8Array }): grpc.ClientReadableStream<WireWatchEvent> {
  const fn = (registry as unknown as Record<string, unknown>).Watch
  if (typeof fn !== 'function') throw new Error('client has no method Watch')
  return fn.call(registry, request) as grpc.ClientReadableStream<WireWatchEvent>
}

/**
 * A resume token or version vector for display. Tokens are opaque to
 * clients, so this is plain base64; empty bytes print as "".
 */
export function formatToken (bytes: Uint8Array | null | undefined): string {
  return bytes == null ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** Parses a token printed by {@link formatToken}; throws InvalidArgumentError naming `field`. */
export function parseToken (value: string, field = '--resume'): Buffer {
  // Buffer.from ignores junk silently; reject it so a mangled paste is not a fresh watch
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw new InvalidArgumentError(field, 'not a base64 token')
  return Buffer.from(value, 'base64')
}

/** True for errors from grpc-js calls (they carry a numeric `code`). */
export function isServiceError (err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number'
}

/** The text to show for a failed call: its details, else its status name. */
export function errorDetails (err: unknown): string {
  if (isServiceError(err)) return err.details !== '' ? err.details : (grpc.status[err.code] ?? `code ${err.code}`)
  return err instanceof Error ? err.message : String(err)
}
