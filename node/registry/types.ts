import type { CheckSpec } from '../health/check-spec.js'

/** Health of an instance; the order of the values is the wire enum's. */
export type HealthStatus = 'PASSING' | 'WARNING' | 'CRITICAL' | 'MAINTENANCE'

/** Statuses that are served in healthy answers. */
export const SERVED_STATUSES: ReadonlySet<HealthStatus> = new Set(['PASSING', 'WARNING'])

/**
 * One instance record as the owner wrote it. Immutable once created: every
 * change makes a new object, so views and queues can share them safely.
 */
export interface InstanceRecord {
  readonly service: string
  readonly instanceId: string
  readonly address: string
  readonly port: number
  readonly protocol: string
  readonly version: string
  readonly tags: readonly string[]
  readonly metadata: Readonly<Record<string, string>>
  readonly weight: number
  readonly zone: string
  readonly status: HealthStatus
  /** node id of the owner, the only node that ever writes this record */
  readonly ownerNode: string
  readonly registeredAtMs: number
  readonly updatedAtMs: number
  /** TTL the owner enforces; replicated so a restarted owner can re-arm it */
  readonly ttlMs: number
  /** last load the instance reported (least_request); absent: never reported */
  readonly load?: number
  /** the active check its owner runs; absent: TTL only. Replicated so a restarted owner re-arms it */
  readonly check?: CheckSpec
  /** set on the view's copy (never on the wire) while the owner is DEAD: shown CRITICAL, never served */
  readonly ownerDead?: true
}

/** Position in one owner's op sequence: epoch = owner incarnation at start. */
export interface Stamp {
  readonly epoch: number
  readonly seq: number
}

/** One change of one owned record: a record, or a tombstone when `record` is null. */
export interface Op {
  readonly seq: number
  readonly key: string
  readonly record: InstanceRecord | null
}

/** Ops an owner published together; `ops` carries consecutive seqs. */
export interface OpBatch {
  readonly owner: string
  readonly epoch: number
  readonly ops: readonly Op[]
}

/** Liveness of an owner as membership sees it, folded into the view. */
export type OwnerLiveness = 'alive' | 'dead' | 'gone'

/** One entry of a version vector. */
export interface VectorEntry extends Stamp {
  readonly owner: string
  readonly liveness: OwnerLiveness
}

/** Key of a record in every map: unique per (service, instance id). */
export function recordKey (service: string, instanceId: string): string {
  return `${service}/${instanceId}`
}

/** The service of a record key (service names hold no '/'). */
export function serviceOfKey (key: string): string {
  return key.slice(0, key.indexOf('/'))
}

/** The instance id of a record key. */
export function instanceIdOfKey (key: string): string {
  return key.slice(key.indexOf('/') + 1)
}

/** Lexicographic order of stamps: epoch first, then seq. */
export function compareStamps (a: Stamp, b: Stamp): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.seq - b.seq
}
