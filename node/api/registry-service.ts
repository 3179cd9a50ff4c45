import type { sendUnaryData, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js'
import type { Logger } from 'pino'
import type { Discovery } from '../registry/discovery.js'
import type { LocalOwner } from '../registry/local-owner.js'
import type { Registry } from '../registry/registry.js'
import { SERVED_STATUSES } from '../registry/types.js'
import { decodeVector } from '../registry/version-vector.js'
import type { WatchEvent, WatchHub } from '../registry/watch-hub.js'
import { toInstanceMessage } from './convert.js'
import { encodeDiscoverResponse } from './encoded.js'
import { toServiceError } from './status-map.js'
import { parseDiscover, parseInstanceRef, parseRegister, parseWatch } from './validation.js'

/** What the Registry service needs from the node. */
export interface RegistryServiceComponents {
  readonly registry: Registry
  readonly owner: LocalOwner
  readonly discovery: Discovery
  readonly watchHub: WatchHub
  readonly logger: Logger
  readonly defaultTtlMs: number
}

/** A unary handler body: request in, response out; throws domain errors. */
type Unary = (req: any) => unknown

/** Wraps a domain function as a grpc-js unary handler; errors go through the status table. */
export function unary (fn: Unary, log: Logger): (call: ServerUnaryCall<any, any>, cb: sendUnaryData<any>) => void {
  return (call, cb) => {
    let res: unknown
    try {
      res = fn(call.request)
    } catch (err) {
      const e = toServiceError(err)
      if (e.code === 13) log.error({ err }, 'handler failed')
      cb(e, null)
      return
    }
    cb(null, res)
  }
}

/** Handlers of grapevine.v1.Registry: thin, validation at the edge, domain below. */
export function registryService (c: RegistryServiceComponents): UntypedServiceImplementation {
  const log = c.logger
  return {
    Register: unary(req => {
      const { instance, ttlMs } = parseRegister(req, c.defaultTtlMs)
      return { instance: toInstanceMessage(c.owner.register(instance, ttlMs)) }
    }, log),
    Heartbeat: unary(req => {
      const { service, instanceId } = parseInstanceRef(req)
      return { ttl_remaining_ms: c.owner.heartbeat(service, instanceId) }
    }, log),
    Deregister: unary(req => {
      const { service, instanceId } = parseInstanceRef(req)
      return { existed: c.owner.deregister(service, instanceId) }
    }, log),
    Discover: unary(req => {
      const q = parseDiscover(req)
      return encodeDiscoverResponse(c.discovery.discover(q), c.watchHub.token())
    }, log),
    ListServices: unary(() => {
      const services = []
      for (const [name, records] of c.registry.services()) {
        let passing = 0
        for (const r of records.values()) if (SERVED_STATUSES.has(r.status)) passing++
        services.push({ name, instances: records.size, passing })
      }
      services.sort((a, b) => (a.name < b.name ? -1 : 1))
      return { services }
    }, log),
    Watch: (call: ServerWritableStream<any, any>) => { watch(c, call) }
  }
}

function watch (c: RegistryServiceComponents, call: ServerWritableStream<any, any>): void {
  let handle: { close: () => void } | undefined
  try {
    const q = parseWatch(call.request)
    const resume = q.resumeToken == null ? null : decodeVector(q.resumeToken)
    handle = c.watchHub.open({ service: q.service, tags: q.tags }, resume, {
      write: ev => call.write(toEventMessage(ev)),
      onDrain: cb => { call.once('drain', cb) },
      fail: err => { fail(call, err) }
    })
  } catch (err) {
    fail(call, err)
    return
  }
  const close = (): void => { handle?.close() }
  call.on('cancelled', close)
  call.on('close', close)
  call.on('error', close)
}

// grpc-js sends a server stream's status from 'error' (destroy() would end it silently)
function fail (call: ServerWritableStream<any, any>, err: unknown): void {
  call.emit('error', Object.assign(new Error(err instanceof Error ? err.message : String(err)), toServiceError(err)))
}

function toEventMessage (ev: WatchEvent): unknown {
  switch (ev.type) {
    case 'UPSERT': return { type: 'UPSERT', instance: toInstanceMessage(ev.record), resume_token: ev.token }
    case 'DELETE': return { type: 'DELETE', instance: { service: ev.service, instance_id: ev.instanceId }, resume_token: ev.token }
    case 'SYNCED': return { type: 'SYNCED', resume_token: ev.token }
  }
}
