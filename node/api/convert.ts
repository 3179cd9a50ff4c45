import { checkToProto } from '../health/check-proto.js'
import type { InstanceRecord } from '../registry/types.js'

/** The wire shape of an Instance (proto-loader, keepCase). */
export interface InstanceMessage {
  service: string
  instance_id: string
  address: string
  port: number
  protocol: string
  version: string
  tags: readonly string[]
  metadata: Readonly<Record<string, string>>
  weight: number
  zone: string
  status: string
  owner_node: string
  registered_at_ms: number
  updated_at_ms: number
  load: number
  check: Record<string, unknown> | null
}

// records are immutable, so each one's message is built once and reused by every answer
const cache = new WeakMap<InstanceRecord, InstanceMessage>()

/** The Instance message for a record, built once per record (for answers that many calls and watches repeat). */
export function toInstanceMessage (r: InstanceRecord): InstanceMessage {
  let m = cache.get(r)
  if (m == null) {
    m = instanceMessage(r)
    cache.set(r, m)
  }
  return m
}

/**
 * The Instance message for a record, built for one answer: Register's reply
 * is sent once, and a cached copy would stay for as long as the record
 * (about 200 B per owned instance).
 */
export function instanceMessage (r: InstanceRecord): InstanceMessage {
  return {
    service: r.service,
    instance_id: r.instanceId,
    address: r.address,
    port: r.port,
    protocol: r.protocol,
    version: r.version,
    tags: r.tags,
    metadata: r.metadata,
    weight: r.weight,
    zone: r.zone,
    status: r.status,
    owner_node: r.ownerNode,
    registered_at_ms: r.registeredAtMs,
    updated_at_ms: r.updatedAtMs,
    load: r.load ?? 0,
    check: r.check == null ? null : checkToProto(r.check)
  }
}
