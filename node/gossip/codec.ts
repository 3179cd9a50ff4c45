import { ProtocolError } from '../errors.js'
import { checkToProto } from '../health/check-proto.js'
import { parseCheck } from '../health/check-spec.js'
import type { CheckSpec } from '../health/check-spec.js'
import type { OwnerDelta, OwnerSnapshot, SnapshotEntry } from '../registry/owner-state.js'
import type { HealthStatus, InstanceRecord, Op, OpBatch, Stamp } from '../registry/types.js'
import { intern, internTags, metadataOfEntries } from '../registry/intern.js'
import { withOptional } from '../registry/record.js'

/**
 * Wire formats between nodes, version 1, JSON. Everything a peer sends is
 * checked field by field here before any of it touches the registry: a
 * malformed message is a ProtocolError naming the field, and changes nothing.
 */

const STATUSES: ReadonlySet<string> = new Set(['PASSING', 'WARNING', 'CRITICAL', 'MAINTENANCE'])
const MAX_STR = 4096
const MAX_LIST = 1_000_000

/** Encodes a batch for gossip. */
export function encodeBatch (batch: OpBatch): Uint8Array {
  return Buffer.from(JSON.stringify({ v: 1, owner: batch.owner, epoch: batch.epoch, ops: batch.ops }))
}

/** Decodes and checks a gossiped batch; ops must carry consecutive seqs. */
export function decodeBatch (bytes: Uint8Array): OpBatch {
  let raw: unknown
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (err) {
    throw new ProtocolError('batch: not JSON', { cause: err })
  }
  const o = obj(raw, 'batch')
  if (o.v !== 1) throw new ProtocolError('batch.v: unsupported version')
  const ops = list(o.ops, 'batch.ops').map((op, i) => parseOp(op, `batch.ops[${i}]`))
  for (let i = 1; i < ops.length; i++) {
    if (ops[i].seq !== ops[i - 1].seq + 1) throw new ProtocolError(`batch.ops[${i}].seq: not consecutive`)
  }
  return { owner: str(o.owner, 'batch.owner', 1), epoch: count(o.epoch, 'batch.epoch'), ops }
}

/** The sync request: the requester's version vector (owner, epoch, seq). */
export interface SyncRequest {
  readonly vector: ReadonlyArray<{ owner: string } & Stamp>
}

/** The sync answer: what the requester lacks, as deltas where possible. */
export interface SyncResponse {
  readonly deltas: readonly OwnerDelta[]
  readonly snapshots: readonly OwnerSnapshot[]
}

/** Checks a sync request from a peer. */
export function parseSyncRequest (raw: unknown): SyncRequest {
  const o = obj(raw, 'sync')
  const vector = list(o.vector, 'sync.vector').map((e, i) => {
    const p = `sync.vector[${i}]`
    const v = obj(e, p)
    return { owner: str(v.owner, `${p}.owner`, 1), epoch: count(v.epoch, `${p}.epoch`), seq: count(v.seq, `${p}.seq`) }
  })
  return { vector }
}

/** Checks a sync answer from a peer. */
export function parseSyncResponse (raw: unknown): SyncResponse {
  const o = obj(raw, 'sync')
  const deltas = list(o.deltas, 'sync.deltas').map((d, i) => {
    const p = `sync.deltas[${i}]`
    const v = obj(d, p)
    return {
      owner: str(v.owner, `${p}.owner`, 1),
      epoch: count(v.epoch, `${p}.epoch`),
      since: count(v.since, `${p}.since`),
      head: count(v.head, `${p}.head`),
      entries: list(v.entries, `${p}.entries`).map((e, j) => parseEntry(e, `${p}.entries[${j}]`))
    }
  })
  const snapshots = list(o.snapshots, 'sync.snapshots').map((s, i) => {
    const p = `sync.snapshots[${i}]`
    const v = obj(s, p)
    return {
      owner: str(v.owner, `${p}.owner`, 1),
      epoch: count(v.epoch, `${p}.epoch`),
      seq: count(v.seq, `${p}.seq`),
      floor: stamp(v.floor, `${p}.floor`),
      entries: list(v.entries, `${p}.entries`).map((e, j) => parseEntry(e, `${p}.entries[${j}]`))
    }
  })
  return { deltas, snapshots }
}

function parseOp (raw: unknown, path: string): Op {
  const o = obj(raw, path)
  const key = str(o.key, `${path}.key`, 3)
  const record = o.record == null ? null : parseRecord(o.record, `${path}.record`)
  if (record != null && key !== `${record.service}/${record.instanceId}`) throw new ProtocolError(`${path}.key: does not match the record`)
  return { seq: count(o.seq, `${path}.seq`), key, record }
}

function parseEntry (raw: unknown, path: string): SnapshotEntry {
  const o = obj(raw, path)
  const key = str(o.key, `${path}.key`, 3)
  const record = o.record == null ? null : parseRecord(o.record, `${path}.record`)
  if (record != null && key !== `${record.service}/${record.instanceId}`) throw new ProtocolError(`${path}.key: does not match the record`)
  return { key, stamp: stamp(o.stamp, `${path}.stamp`), record }
}

/** Checks one record from a peer: every field present and of its type. */
export function parseRecord (raw: unknown, path: string): InstanceRecord {
  const o = obj(raw, path)
  const tags = internTags(list(o.tags, `${path}.tags`).map((t, i) => str(t, `${path}.tags[${i}]`, 1)))
  const metaRaw = obj(o.metadata, `${path}.metadata`)
  const metadata = metadataOfEntries(Object.entries(metaRaw).map(([k, v]) => [k, str(v, `${path}.metadata.${k}`, 0)] as const))
  const status = str(o.status, `${path}.status`, 1)
  if (!STATUSES.has(status)) throw new ProtocolError(`${path}.status: unknown status`)
  const health = optionalHealth(o, path)
  // the fields in makeRecord's order (record.ts): every record shares one hidden class
  return withOptional({
    service: intern(str(o.service, `${path}.service`, 1)),
    instanceId: str(o.instanceId, `${path}.instanceId`, 1),
    address: str(o.address, `${path}.address`, 1),
    port: count(o.port, `${path}.port`),
    protocol: intern(str(o.protocol, `${path}.protocol`, 0)),
    version: intern(str(o.version, `${path}.version`, 0)),
    tags,
    metadata,
    weight: count(o.weight, `${path}.weight`),
    zone: intern(str(o.zone, `${path}.zone`, 0)),
    status: status as HealthStatus,
    ownerNode: intern(str(o.ownerNode, `${path}.ownerNode`, 1)),
    registeredAtMs: count(o.registeredAtMs, `${path}.registeredAtMs`),
    updatedAtMs: count(o.updatedAtMs, `${path}.updatedAtMs`),
    ttlMs: count(o.ttlMs, `${path}.ttlMs`)
  }, health.load, health.check, undefined)
}

// load and check came later: records from older nodes (and older data dirs) have neither
function optionalHealth (o: Record<string, unknown>, path: string): { load?: number, check?: CheckSpec } {
  const out: { load?: number, check?: CheckSpec } = {}
  if (o.load != null) {
    if (typeof o.load !== 'number' || !Number.isFinite(o.load) || o.load < 0) throw new ProtocolError(`${path}.load: not a number >= 0`)
    out.load = o.load
  }
  if (o.check != null) {
    try {
      // the same rules as the API's: a peer's check is checked like a client's
      const spec = parseCheck(checkToProto(o.check as CheckSpec), `${path}.check`)
      if (spec != null) out.check = spec
    } catch (err) {
      throw new ProtocolError(`${path}.check: ${err instanceof Error ? err.message : 'invalid'}`, { cause: err })
    }
  }
  return out
}

function stamp (raw: unknown, path: string): Stamp {
  const o = obj(raw, path)
  return { epoch: count(o.epoch, `${path}.epoch`), seq: count(o.seq, `${path}.seq`) }
}

function obj (v: unknown, path: string): Record<string, unknown> {
  if (v == null || typeof v !== 'object' || Array.isArray(v)) throw new ProtocolError(`${path}: not an object`)
  return v as Record<string, unknown>
}

function list (v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new ProtocolError(`${path}: not a list`)
  if (v.length > MAX_LIST) throw new ProtocolError(`${path}: too long`)
  return v
}

function str (v: unknown, path: string, minLength: number): string {
  if (typeof v !== 'string' || v.length < minLength || v.length > MAX_STR) throw new ProtocolError(`${path}: not a string of ${minLength}-${MAX_STR} chars`)
  return v
}

function count (v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ProtocolError(`${path}: not a whole number >= 0`)
  return v
}
