import { status as grpcStatus } from '@grpc/grpc-js'
import { isServiceError, unary } from '../../client/client.js'
import type { WireInstance, WireStatus } from '../../client/client.js'
import type { LocalCluster } from '../launcher.js'
import type { AnswerEntry, CallOp, History, Observed } from './history.js'

/** What a recorded call is about, copied into its call and answer entries. */
export interface CallMeta {
  readonly key?: string
  readonly life?: number
  readonly service?: string
  readonly round?: number
  readonly final?: boolean
}

/** A recorded call's outcome: the answer entry, and the response when it succeeded. */
export type CallResult<Res> =
  | { readonly ok: true, readonly res: Res, readonly entry: AnswerEntry & { seq: number } }
  | { readonly ok: false, readonly code: string, readonly entry: AnswerEntry & { seq: number } }

/**
 * Unary calls to the cluster's nodes that record themselves: a `call` entry
 * when sent, an `answer` entry (with what the checker needs of the
 * response) when it returns. Always through the launcher's per-node
 * clients, so a node's calls and watch streams share one connection and
 * arrive in the order they were sent.
 */
export class Caller {
  constructor (private readonly cluster: LocalCluster, private readonly history: History) {}

  /** Registers `key`'s instance at `node` with `ttlMs`. */
  async register (node: number, key: string, life: number, port: number, ttlMs: number, deadlineMs: number): Promise<CallResult<{ instance: WireInstance }>> {
    const [service, instanceId] = splitKey(key)
    const req = { instance: { service, instance_id: instanceId, address: '127.0.0.1', port, protocol: 'http', version: 'v1' }, ttl_seconds: Math.ceil(ttlMs / 1000) }
    return await this.call(node, 'Register', req, { key, life }, deadlineMs, (res: { instance: WireInstance }) => ({ registeredAt: Number(res.instance.registered_at_ms) }))
  }

  /** Heartbeats `key`'s instance at `node`. */
  async heartbeat (node: number, key: string, life: number, deadlineMs: number): Promise<CallResult<unknown>> {
    const [service, instanceId] = splitKey(key)
    return await this.call(node, 'Heartbeat', { service, instance_id: instanceId }, { key, life }, deadlineMs, () => ({}))
  }

  /** Deregisters `key`'s instance at `node`. */
  async deregister (node: number, key: string, life: number, deadlineMs: number): Promise<CallResult<unknown>> {
    const [service, instanceId] = splitKey(key)
    return await this.call(node, 'Deregister', { service, instance_id: instanceId }, { key, life }, deadlineMs, () => ({}))
  }

  /** Discover with include_unhealthy, so every record shows with its status. */
  async discover (node: number, service: string, meta: CallMeta, deadlineMs: number): Promise<CallResult<{ instances: WireInstance[], resume_token: Buffer }>> {
    return await this.call(node, 'Discover', { service, include_unhealthy: true }, { ...meta, service }, deadlineMs,
      (res: { instances: WireInstance[], resume_token: Buffer }) => ({ instances: res.instances.map(observed), token: b64(res.resume_token) }))
  }

  /** Cluster.Status. */
  async status (node: number, meta: CallMeta, deadlineMs: number): Promise<CallResult<WireStatus>> {
    return await this.call(node, 'Status', {}, meta, deadlineMs, (res: WireStatus) => ({ digest: res.digest }))
  }

  private async call<Res> (node: number, op: CallOp, request: object, meta: CallMeta, deadlineMs: number, summarize: (res: Res) => Partial<AnswerEntry>): Promise<CallResult<Res>> {
    const id = this.history.callId()
    const sent = this.history.record({ kind: 'call', id, node, op, ...(meta.key !== undefined ? { key: meta.key } : {}), ...(meta.service !== undefined ? { service: meta.service } : {}) })
    const base = { kind: 'answer' as const, id, node, op, sentAt: sent.t, ...meta }
    try {
      const clients = this.cluster.clients(node)
      const res = await unary<Res>(op === 'Status' ? clients.cluster : clients.registry, op, request, { deadlineMs })
      const entry = this.history.record({ ...base, ok: true, ...summarize(res) })
      return { ok: true, res, entry }
    } catch (err) {
      const code = isServiceError(err) ? (grpcStatus[err.code] ?? String(err.code)) : 'CLIENT_ERROR'
      const entry = this.history.record({ ...base, ok: false, code })
      return { ok: false, code, entry }
    }
  }
}

/** An Instance message as the history keeps it. */
export function observed (i: WireInstance): Observed {
  return { key: `${i.service}/${i.instance_id}`, status: i.status, owner: i.owner_node, registeredAt: Number(i.registered_at_ms) }
}

/** Bytes as base64 ('' for none). */
export function b64 (bytes: Uint8Array | null | undefined): string {
  return bytes == null ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** "service/instance_id" → [service, instance_id]. */
export function splitKey (key: string): [string, string] {
  const slash = key.indexOf('/')
  return [key.slice(0, slash), key.slice(slash + 1)]
}
