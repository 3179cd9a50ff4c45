import type { sendUnaryData, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js'
import type { Logger } from 'pino'
import type { Discovery } from '../registry/discovery.js'
import type { LocalOwner } from '../registry/local-owner.js'
import type { Registry } from '../registry/registry.js'
import { SERVED_STATUSES } from '../registry/types.js'
import { decodeVector } from '../registry/version-vector.js'
import type { WatchHub } from '../registry/watch-hub.js'
import { instanceMessage, toInstanceMessage } from './convert.js'
import { encodeDiscoverResponse, encodePickResponse } from './encoded.js'
import { encodeWatchEvent } from './watch-encoding.js'
import { toServiceError } from './status-map.js'
import { grpcStreamOut } from './stream-out.js'
import type { StreamOut } from './stream-out.js'
import { MAX_METADATA_PAIRS, parseDiscover, parseHeartbeat, parseInstanceRef, parsePick, parseRegister, parseServiceRef, parseSetMaintenance, parseWatch } from './validation.js'
import type { PickerCache } from '../balancer/picker-cache.js'
import { InvalidArgumentError, NoInstanceError, NotFoundError } from '../errors.js'
import { parseCheck } from '../health/check-spec.js'
import type { HealthManager } from '../health/manager.js'
import { recordKey } from '../registry/types.js'

/** What the Registry service needs from the node. */
export interface RegistryServiceComponents {
  readonly registry: Registry
  readonly owner: LocalOwner
  readonly discovery: Discovery
  readonly watchHub: WatchHub
  readonly health: HealthManager
  readonly pickers: PickerCache
  readonly logger: Logger
  readonly defaultTtlMs: number
  /** resolves once every owned change so far is on disk */
  readonly durable: () => Promise<void>
}

/** A unary handler body: request in, response (or its promise) out; throws domain errors. */
type Unary = (req: any) => unknown

/** Wraps a domain function as a grpc-js unary handler; errors go through the status table. */
export function unary (fn: Unary, log: Logger): (call: ServerUnaryCall<any, any>, cb: sendUnaryData<any>) => void {
  const fail = (err: unknown, cb: sendUnaryData<any>): void => {
    const e = toServiceError(err)
    if (e.code === 13) log.error({ err }, 'handler failed')
    cb(e, null)
  }
  return (call, cb) => {
    let res: unknown
    try {
      res = fn(call.request)
    } catch (err) {
      fail(err, cb)
      return
    }
    if (res instanceof Promise) res.then(v => { cb(null, v) }, err => { fail(err, cb) })
    else cb(null, res)
  }
}

/** Handlers of grapevine.v1.Registry: thin, validation at the edge, domain below. */
export function registryService (c: RegistryServiceComponents): UntypedServiceImplementation {
  const log = c.logger
  const openWatch = watchOpener(c)
  return {
    Register: unary(req => {
      const { instance, ttlMs } = parseRegister(req, c.defaultTtlMs)
      const check = parseCheck((req as { check?: unknown } | null)?.check)
      return { instance: instanceMessage(c.owner.register(instance, ttlMs, check)) }
    }, log),
    Heartbeat: unary(req => {
      const { service, instanceId, status, load } = parseHeartbeat(req)
      const ttl = c.owner.heartbeat(service, instanceId)
      const key = recordKey(service, instanceId)
      c.health.heartbeat(key, status ?? undefined)
      if (load != null) c.owner.reportLoad(key, load)
      return { ttl_remaining_ms: ttl }
    }, log),
    Deregister: unary(async req => {
      const { service, instanceId } = parseInstanceRef(req)
      const existed = c.owner.deregister(service, instanceId)
      // answered once on disk: a crash right after must not bring the instance back on restart. Also
      // when it was gone already: a retry after a failed write, or a second call while the first
      // one's write is under way, must not be answered before that removal is on disk
      await c.durable()
      return { existed }
    }, log),
    Discover: unary(req => {
      const answer = c.discovery.discover(parseDiscover(req))
      return encodeDiscoverResponse(answer.instances, c.watchHub.token(), answer.panic)
    }, log),
    Pick: unary(req => {
      const q = parsePick(req)
      const picked = c.discovery.pick(q)
      if (picked == null) throw new NoInstanceError(`no instance of "${q.service}" can serve`)
      return encodePickResponse(picked.instance, picked.panic)
    }, log),
    SetMaintenance: unary(async req => {
      const { service, instanceId, enabled, reason } = parseSetMaintenance(req)
      const key = recordKey(service, instanceId)
      const rec = c.owner.get(key)
      if (rec == null) throw new NotFoundError(`${key} is not registered with this node`)
      // the reason is one more metadata pair: a record at the limit has no room (Register would refuse it)
      const withReason = enabled && reason !== ''
      if (withReason && rec.metadata.maintenance_reason === undefined && Object.keys(rec.metadata).length >= MAX_METADATA_PAIRS) {
        throw new InvalidArgumentError('reason', `the instance has ${MAX_METADATA_PAIRS} metadata pairs, the most it may: no room for "maintenance_reason" (drain without a reason)`)
      }
      c.owner.annotate(key, 'maintenance_reason', withReason ? reason : null)
      c.health.maintenance(key, enabled)
      // a drain, answered, survives a crash: the restarted owner must not serve the instance again
      await c.durable()
      return { instance: toInstanceMessage(c.owner.get(key)!) }
    }, log),
    BalancerStats: unary(req => {
      const { service } = parseServiceRef(req)
      return { service, instances: c.pickers.statsOf(service) }
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
    Watch: (call: ServerWritableStream<any, any>) => { openWatch(call.request, grpcStreamOut(call)) }
  }
}

/**
 * Opens a Watch from its request, sending on `out`: the one implementation
 * behind the grpc-js handler and the lean path (lean-grpc.ts).
 */
export function watchOpener (c: Pick<RegistryServiceComponents, 'watchHub'>): (request: unknown, out: StreamOut) => void {
  return (request, out) => {
    let handle: { close: () => void }
    try {
      const q = parseWatch(request)
      const resume = q.resumeToken == null ? null : decodeVector(q.resumeToken)
      handle = c.watchHub.open({ service: q.service, tags: q.tags }, resume, {
        write: ev => out.write(encodeWatchEvent(ev)),
        onDrain: cb => { out.onDrain(cb) },
        fail: err => { out.fail(toServiceError(err)) }
      })
    } catch (err) {
      out.fail(toServiceError(err))
      return
    }
    out.onClose(() => { handle.close() })
  }
}
