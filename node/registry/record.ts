import type { InstanceRecord } from './types.js'

type Optional = Pick<InstanceRecord, 'load' | 'check' | 'ownerDead'>
const NO_CHANGES: Partial<InstanceRecord> = {}

/**
 * A record built by this one literal, every field in one order: records
 * made by spreading (`{ ...rec, status }`) each got a hidden class of their
 * own from V8 (about 550 B of maps and descriptors per owned record). The
 * optional fields, which most records lack, are added after it (a shared
 * transition), so a record without them does not carry three empty slots.
 * `changes` overrides fields of `base`.
 */
export function makeRecord (base: InstanceRecord, changes: Partial<InstanceRecord> = NO_CHANGES): InstanceRecord {
  const c = changes
  return withOptional({
    service: c.service ?? base.service,
    instanceId: c.instanceId ?? base.instanceId,
    address: c.address ?? base.address,
    port: c.port ?? base.port,
    protocol: c.protocol ?? base.protocol,
    version: c.version ?? base.version,
    tags: c.tags ?? base.tags,
    metadata: c.metadata ?? base.metadata,
    weight: c.weight ?? base.weight,
    zone: c.zone ?? base.zone,
    status: c.status ?? base.status,
    ownerNode: c.ownerNode ?? base.ownerNode,
    registeredAtMs: c.registeredAtMs ?? base.registeredAtMs,
    updatedAtMs: c.updatedAtMs ?? base.updatedAtMs,
    ttlMs: c.ttlMs ?? base.ttlMs
  }, c.load ?? base.load, c.check ?? base.check, c.ownerDead ?? base.ownerDead)
}

/**
 * Adds the optional fields that are set, always in this order, to a record
 * just built with the required ones in makeRecord's order.
 */
export function withOptional (r: InstanceRecord, load: Optional['load'], check: Optional['check'], ownerDead: Optional['ownerDead']): InstanceRecord {
  const o = r as { -readonly [K in keyof Optional]: Optional[K] }
  if (load !== undefined) o.load = load
  if (check !== undefined) o.check = check
  if (ownerDead !== undefined) o.ownerDead = ownerDead
  return r
}
