/** Shared builders for the registry unit tests (pure: no sockets, no timers). */
import { pino } from 'pino'
import type { Logger } from 'pino'
import { Registry } from '../../node/registry/registry.js'
import { recordKey } from '../../node/registry/types.js'
import type { HealthStatus, InstanceRecord, Op, OpBatch } from '../../node/registry/types.js'

export const silentLogger: Logger = pino({ level: 'silent' })

/** A record of `service/instanceId` owned by `owner`; everything else defaulted. */
export function rec (service: string, instanceId: string, over: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    service,
    instanceId,
    address: '10.0.0.1',
    port: 8080,
    protocol: 'grpc',
    version: '1.0.0',
    tags: [],
    metadata: {},
    weight: 100,
    zone: 'z1',
    status: 'PASSING' as HealthStatus,
    ownerNode: 'A',
    registeredAtMs: 1000,
    updatedAtMs: 1000,
    ttlMs: 30_000,
    ...over
  }
}

/** An op putting `r` at `seq`. */
export function put (seq: number, r: InstanceRecord): Op {
  return { seq, key: recordKey(r.service, r.instanceId), record: r }
}

/** An op deleting `key` at `seq`. */
export function del (seq: number, key: string): Op {
  return { seq, key, record: null }
}

export function batch (owner: string, epoch: number, ...ops: Op[]): OpBatch {
  return { owner, epoch, ops }
}

/** A registry on a settable clock. */
export function clockedRegistry (start = 10_000): { reg: Registry, clock: { t: number } } {
  const clock = { t: start }
  return { reg: new Registry({ now: () => clock.t }), clock }
}
