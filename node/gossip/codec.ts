import { ProtocolError } from '../errors.js'
import { checkToProto } from '../health/check-proto.js'
import { parseCheck } from '../health/check-spec.js'
import type { CheckSpec } from '../health/check-spec.js'
import type { OwnerDelta, OwnerSnapshot, SnapshotEntry } from '../registry/owner-state.js'
import type { HealthStatus, InstanceRecord, Op, OpBatch, Stamp } from '../registry/types.js'
import { intern, internTags, metadataOfEntries } from '../registry/intern.js'
import { withOptional } from '../registry/record.js'
import { compareStamps } from '../registry/types.js'
import { MAX_ADDRESS_BYTES, MAX_METADATA_PAIRS, MAX_OWNER_ID_CHARS, MAX_PORT, MAX_TAGS, MAX_TEXT_BYTES, MAX_WEIGHT, SERVICE_PATTERN } from '../registry/limits.js'

/**
 * Wire formats between nodes, version 1, JSON. Everything a peer sends is
 * checked field by field here before any of it touches the registry: a
 * malformed message is a ProtocolError naming the field, and changes nothing.
 * A record gets the API's limits (registry/limits.ts) and must name the
 * owner whose part carries it; stamps must be ones a real owner's log can
 * have (epochs from 1, a delta's entries inside its range and one at its
 * head). A well-formed lie still passes: sync answers are not signed (see
 * README, known issues).
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
  const owner = ownerId(o.owner, 'batch.owner')
  const ops = list(o.ops, 'batch.ops').map((op, i) => parseOp(op, `batch.ops[${i}]`, owner))
  for (let i = 1; i < ops.length; i++) {
    if (ops[i].seq !== ops[i - 1].seq + 1) throw new ProtocolError(`batch.ops[${i}].seq: not consecutive`)
  }
  return { owner, epoch: epochOf(o.epoch, 'batch.epoch'), ops }
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
  const deltas = list(o.deltas, 'sync.deltas').map((d, i) => parseDelta(d, `sync.deltas[${i}]`))
  const snapshots = list(o.snapshots, 'sync.snapshots').map((s, i) => parseSnapshot(s, `sync.snapshots[${i}]`))
  return { deltas, snapshots }
}

/**
 * One frame of a framed sync answer (version 2), as parsed: an owner's
 * delta, or a part of an owner's snapshot; `more` says the owner's next
 * part follows in the next frame (a large snapshot travels in parts, so the
 * asker checks one while the next is on its way).
 */
export type SyncFrame =
  | { readonly delta: OwnerDelta }
  | { readonly snapshot: OwnerSnapshot, readonly more: boolean }

/**
 * The fields of a record in a version 2 entry, in order. An entry is
 * `[epoch, seq, [values...]]`, or `[epoch, seq, key]` for a tombstone;
 * `ownerNode` is '' when it is the frame's owner (it always is, for records
 * their owner wrote). Without field names, the key (the record's service
 * and id) and the owner's id, an entry is a third of version 1's, and the
 * asker, whose parsing is what a join waits for, parses a third the bytes.
 */
const RECORD_FIELDS = ['service', 'instanceId', 'address', 'port', 'protocol', 'version', 'tags', 'metadata', 'weight', 'zone', 'status',
  'ownerNode', 'registeredAtMs', 'updatedAtMs', 'ttlMs', 'load', 'check'] as const

/** The version 2 form of an owner's entries (see RECORD_FIELDS). */
export function encodeEntries (owner: string, entries: readonly SnapshotEntry[]): unknown[] {
  return entries.map(e => [e.stamp.epoch, e.stamp.seq, e.record == null ? e.key : recordValues(owner, e.record)])
}

function recordValues (owner: string, r: InstanceRecord): unknown[] {
  const values: unknown[] = [r.service, r.instanceId, r.address, r.port, r.protocol, r.version, r.tags, r.metadata, r.weight, r.zone, r.status,
    r.ownerNode === owner ? '' : r.ownerNode, r.registeredAtMs, r.updatedAtMs, r.ttlMs]
  if (r.load !== undefined || r.check !== undefined) values.push(r.load ?? null, r.check ?? null)
  return values
}

/** Checks one frame of a framed sync answer. */
export function parseSyncFrame (raw: unknown): SyncFrame {
  const o = obj(raw, 'frame')
  if (o.delta != null) return { delta: parseDelta(o.delta, 'frame.delta', parseEntries) }
  if (o.more !== undefined && typeof o.more !== 'boolean') throw new ProtocolError('frame.more: not a boolean')
  return { snapshot: parseSnapshot(o.snapshot, 'frame.snapshot', parseEntries), more: o.more === true }
}

/** Parses an owner's entries, in version 1's form or version 2's. */
type EntriesParser = (raw: unknown, owner: string, path: string) => SnapshotEntry[]

// version 1: objects with key, stamp and the record by name
const parseNamedEntries: EntriesParser = (raw, owner, path) => list(raw, path).map((e, j) => parseEntry(e, `${path}[${j}]`, owner))

// version 2: [epoch, seq, record values or key] (see RECORD_FIELDS)
const parseEntries: EntriesParser = (raw, owner, path) => list(raw, path).map((e, i) => {
  const p = `${path}[${i}]`
  if (!Array.isArray(e) || e.length !== 3) throw new ProtocolError(`${p}: not [epoch, seq, record or key]`)
  const entryStamp = { epoch: count(e[0], `${p}[0]`), seq: count(e[1], `${p}[1]`) }
  if (typeof e[2] === 'string') return { key: str(e[2], `${p}[2]`, 3), stamp: entryStamp, record: null }
  const values = e[2] as unknown
  if (!Array.isArray(values) || values.length < 15 || values.length > RECORD_FIELDS.length) throw new ProtocolError(`${p}[2]: not a key or a record's values`)
  // named again, so the record gets every check (and error name) of version 1's
  const named: Record<string, unknown> = {}
  RECORD_FIELDS.forEach((f, k) => { named[f] = values[k] })
  if (named.ownerNode === '') named.ownerNode = owner
  const record = ownedBy(parseRecord(named, `${p}[2]`), owner, `${p}[2]`)
  return { key: `${record.service}/${record.instanceId}`, stamp: entryStamp, record }
})

// A delta is the final state of every key changed in (since, head] of its epoch: each entry inside
// that range, and one at the head (the last op's key; tombstones after `since` are never pruned, or
// no delta would be made). Without these, an empty delta claiming a far head stopped the owner here.
function parseDelta (raw: unknown, p: string, parse: EntriesParser = parseNamedEntries): OwnerDelta {
  const { v, owner, entries } = ownerPart(raw, p, parse)
  const epoch = epochOf(v.epoch, `${p}.epoch`)
  const since = count(v.since, `${p}.since`)
  const head = count(v.head, `${p}.head`)
  if (head < since) throw new ProtocolError(`${p}.head: below since`)
  let atHead = head === since
  entries.forEach((e, i) => {
    if (e.stamp.epoch !== epoch || e.stamp.seq <= since || e.stamp.seq > head) throw new ProtocolError(`${p}.entries[${i}]: stamp outside the delta's (since, head] of its epoch`)
    if (e.stamp.seq === head) atHead = true
  })
  if (!atHead) throw new ProtocolError(`${p}.entries: none at the head`)
  return { owner, epoch, since, head, entries }
}

function parseSnapshot (raw: unknown, p: string, parse: EntriesParser = parseNamedEntries): OwnerSnapshot {
  const { v, owner, entries } = ownerPart(raw, p, parse)
  const head = { epoch: epochOf(v.epoch, `${p}.epoch`), seq: count(v.seq, `${p}.seq`) }
  const floor = stamp(v.floor, `${p}.floor`)
  if (compareStamps(floor, head) > 0) throw new ProtocolError(`${p}.floor: past the head`)
  entries.forEach((e, i) => {
    if (compareStamps(e.stamp, head) > 0) throw new ProtocolError(`${p}.entries[${i}].stamp: past the head`)
  })
  return { owner, epoch: head.epoch, seq: head.seq, floor, entries }
}

// what a delta and a snapshot share: the owner and its entries
function ownerPart (raw: unknown, p: string, parse: EntriesParser): { v: Record<string, unknown>, owner: string, entries: SnapshotEntry[] } {
  const v = obj(raw, p)
  const owner = ownerId(v.owner, `${p}.owner`)
  return { v, owner, entries: parse(v.entries, owner, `${p}.entries`) }
}

function parseOp (raw: unknown, path: string, owner: string): Op {
  const o = obj(raw, path)
  return { seq: count(o.seq, `${path}.seq`), ...keyedRecord(o, path, owner) }
}

function parseEntry (raw: unknown, path: string, owner: string): SnapshotEntry {
  const o = obj(raw, path)
  return { ...keyedRecord(o, path, owner), stamp: stamp(o.stamp, `${path}.stamp`) }
}

// what an op and a named entry share: a key, and the owner's record of it or null (a tombstone)
function keyedRecord (o: Record<string, unknown>, path: string, owner: string): { key: string, record: InstanceRecord | null } {
  const key = str(o.key, `${path}.key`, 3)
  const record = o.record == null ? null : ownedBy(parseRecord(o.record, `${path}.record`), owner, `${path}.record`)
  if (record != null && key !== `${record.service}/${record.instanceId}`) throw new ProtocolError(`${path}.key: does not match the record`)
  return { key, record }
}

// only the owner writes its records, and each carries its id: another one in its part is a forgery
function ownedBy (record: InstanceRecord, owner: string, path: string): InstanceRecord {
  if (record.ownerNode !== owner) throw new ProtocolError(`${path}.ownerNode: not the owner of its part`)
  return record
}

/** Checks one record from a peer: every field present and of its type. */
export function parseRecord (raw: unknown, path: string): InstanceRecord {
  const o = obj(raw, path)
  const tagList = list(o.tags, `${path}.tags`)
  if (tagList.length > MAX_TAGS) throw new ProtocolError(`${path}.tags: more than ${MAX_TAGS}`)
  const tags = internTags(tagList.map((t, i) => text(t, `${path}.tags[${i}]`, 1)))
  const metaEntries = Object.entries(obj(o.metadata, `${path}.metadata`))
  if (metaEntries.length > MAX_METADATA_PAIRS) throw new ProtocolError(`${path}.metadata: more than ${MAX_METADATA_PAIRS} pairs`)
  const metadata = metadataOfEntries(metaEntries.map(([k, v], i) => [text(k, `${path}.metadata: key ${i}`, 1), text(v, `${path}.metadata.${k}`, 0)] as const))
  const service = text(o.service, `${path}.service`, 1)
  if (!SERVICE_PATTERN.test(service)) throw new ProtocolError(`${path}.service: not a service name`)
  const instanceId = text(o.instanceId, `${path}.instanceId`, 1)
  if (instanceId.includes('/')) throw new ProtocolError(`${path}.instanceId: contains "/"`)
  const port = count(o.port, `${path}.port`)
  if (port < 1 || port > MAX_PORT) throw new ProtocolError(`${path}.port: not 1-${MAX_PORT}`)
  const weight = count(o.weight, `${path}.weight`)
  if (weight > MAX_WEIGHT) throw new ProtocolError(`${path}.weight: over ${MAX_WEIGHT}`)
  const status = str(o.status, `${path}.status`, 1)
  if (!STATUSES.has(status)) throw new ProtocolError(`${path}.status: unknown status`)
  const health = optionalHealth(o, path)
  // the fields in makeRecord's order (record.ts): every record shares one hidden class
  return withOptional({
    service: intern(service),
    instanceId,
    address: text(o.address, `${path}.address`, 1, MAX_ADDRESS_BYTES),
    port,
    protocol: intern(text(o.protocol, `${path}.protocol`, 0)),
    version: intern(text(o.version, `${path}.version`, 0)),
    tags,
    metadata,
    weight,
    zone: intern(text(o.zone, `${path}.zone`, 0)),
    status: status as HealthStatus,
    ownerNode: intern(ownerId(o.ownerNode, `${path}.ownerNode`)),
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

// a string the API would take: at most `maxBytes` of UTF-8 (counted only when its length leaves doubt)
function text (v: unknown, path: string, minLength: number, maxBytes = MAX_TEXT_BYTES): string {
  const s = str(v, path, minLength)
  if (s.length > maxBytes || (s.length * 3 > maxBytes && Buffer.byteLength(s, 'utf8') > maxBytes)) throw new ProtocolError(`${path}: over ${maxBytes} bytes`)
  return s
}

function ownerId (v: unknown, path: string): string {
  const s = str(v, path, 1)
  if (s.length > MAX_OWNER_ID_CHARS) throw new ProtocolError(`${path}: over ${MAX_OWNER_ID_CHARS} characters`)
  return s
}

// an owner's epoch is its incarnation, from 1: no log has epoch 0
function epochOf (v: unknown, path: string): number {
  const n = count(v, path)
  if (n < 1) throw new ProtocolError(`${path}: not 1 or more`)
  return n
}

function count (v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ProtocolError(`${path}: not a whole number >= 0`)
  return v
}
