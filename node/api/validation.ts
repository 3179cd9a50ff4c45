/**
 * Validation of Registry requests at the gRPC boundary. Everything past this
 * module may trust its input, so every rule of `registry.proto` is enforced
 * here and nowhere else. Requests are typed `unknown` on purpose: proto-loader
 * fills defaults for well-formed calls, but tests, the CLI and future callers
 * can hand us anything, and a TypeError would surface as INTERNAL instead of
 * INVALID_ARGUMENT. Errors name fields by their proto (snake_case) paths,
 * because that is what the caller wrote.
 */
import { isIP } from 'node:net'
import { InvalidArgumentError } from '../errors.js'
import { isStrategy, STRATEGIES } from '../balancer/registry.js'
import { clip, isWellFormed } from './text.js'
import type { HealthStatus } from '../registry/types.js'
import { MAX_ADDRESS_BYTES, MAX_METADATA_PAIRS, MAX_PORT, MAX_TAGS, MAX_TEXT_BYTES, MAX_WEIGHT, SERVICE_PATTERN } from '../registry/limits.js'

export { MAX_METADATA_PAIRS }

const DEFAULT_WEIGHT = 100
const MAX_TTL_SECONDS = 86_400
const MAX_LIMIT = 100_000
const MAX_RESUME_TOKEN_BYTES = 1024 * 1024
const LABEL_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/
const ALL_DIGITS = /^[0-9]+$/
// C0, DEL and C1: they corrupt logs and terminals wherever ids are printed.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/

type Obj = Record<string, unknown>

/**
 * The instance fields a caller may set on Register, in domain (camelCase)
 * names. Output fields of `Instance` are not here: the owner fills them.
 */
export interface InstanceInput {
  service: string
  /** '' asks the owner to generate one. */
  instanceId: string
  address: string
  port: number
  protocol: string
  version: string
  /** Deduplicated, first occurrence kept, so matching never double-counts. */
  tags: string[]
  metadata: Record<string, string>
  /** Already defaulted: the wire's 0 has become 100. */
  weight: number
  zone: string
}

/** A validated Discover call; `limit` 0 means every match. */
export interface DiscoverQuery {
  service: string
  tags: string[]
  metadata: Record<string, string>
  zone: string
  includeUnhealthy: boolean
  limit: number
  balance: BalanceQuery
}

/** A validated Watch call; `service` '' watches every service. */
export interface WatchQuery {
  service: string
  tags: string[]
  /** Still opaque: decoding needs the view, which this module does not know. */
  resumeToken: Uint8Array | null
}

/**
 * Validates a RegisterRequest. A `ttl_seconds` of 0 (the proto default) takes
 * `defaultTtlMs`, so the node's configuration, not the wire, owns the default.
 * @throws InvalidArgumentError naming the first bad field, in proto order.
 */
export function parseRegister (req: unknown, defaultTtlMs: number): { instance: InstanceInput, ttlMs: number } {
  const r = asRequest(req)
  const inst = read(r, 'instance', 'instance')
  if (inst === undefined || inst === null) fail('instance', 'is required')
  if (!isObj(inst)) fail('instance', 'must be an object')
  const p = 'instance.'
  const instance: InstanceInput = {
    service: serviceName(inst, p, false),
    instanceId: instanceId(inst, p, false),
    address: address(inst, p),
    port: int(inst, p, 'port', 1, MAX_PORT),
    protocol: str(inst, p, 'protocol'),
    version: str(inst, p, 'version'),
    tags: tagsOf(inst, p),
    metadata: metadataOf(inst, p),
    weight: int(inst, p, 'weight', 0, MAX_WEIGHT) || DEFAULT_WEIGHT,
    zone: str(inst, p, 'zone')
  }
  const ttlSeconds = int(r, '', 'ttl_seconds', 0, MAX_TTL_SECONDS)
  return { instance, ttlMs: ttlSeconds === 0 ? defaultTtlMs : ttlSeconds * 1000 }
}

/**
 * Validates a HeartbeatRequest or DeregisterRequest. Unlike Register, the id
 * is required: there is nothing to generate, only a record to find.
 * @throws InvalidArgumentError naming the first bad field.
 */
export function parseInstanceRef (req: unknown): { service: string, instanceId: string } {
  const r = asRequest(req)
  return { service: serviceName(r, '', false), instanceId: instanceId(r, '', true) }
}

/**
 * Validates a DiscoverRequest. Filters get the same limits as Register, since
 * a filter longer than any stored value could never match anyway.
 * @throws InvalidArgumentError naming the first bad field.
 */
export function parseDiscover (req: unknown): DiscoverQuery {
  const r = asRequest(req)
  return {
    service: serviceName(r, '', false),
    tags: tagsOf(r, ''),
    metadata: metadataOf(r, ''),
    zone: str(r, '', 'zone'),
    includeUnhealthy: bool(r, '', 'include_unhealthy'),
    limit: int(r, '', 'limit', 0, MAX_LIMIT),
    balance: balanceOf(r)
  }
}

/** How to balance: a strategy name (default round_robin), its hash key and the caller's zone. */
export interface BalanceQuery {
  readonly strategy: string
  readonly hashKey: string
  readonly clientZone: string
}

/** A validated Pick request. */
export interface PickQuery {
  readonly service: string
  readonly tags: string[]
  readonly metadata: Record<string, string>
  readonly balance: BalanceQuery
}

/** Checks a Pick request. */
export function parsePick (req: unknown): PickQuery {
  const r = asRequest(req)
  return { service: serviceName(r, '', false), tags: tagsOf(r, ''), metadata: metadataOf(r, ''), balance: balanceOf(r) }
}

/** Checks a Heartbeat request: the instance, and what it may report of itself. */
export function parseHeartbeat (req: unknown): { service: string, instanceId: string, status: HealthStatus | null, load: number | null } {
  const r = asRequest(req)
  const ref = parseInstanceRef(r)
  const raw = read(r, 'status', 'status')
  let status: HealthStatus | null = null
  if (raw != null && raw !== '' && raw !== 'HEALTH_STATUS_UNSPECIFIED' && raw !== 0) {
    // MAINTENANCE is the operator's (SetMaintenance), not the instance's to report
    if (raw !== 'PASSING' && raw !== 'WARNING' && raw !== 'CRITICAL') fail('status', 'must be PASSING, WARNING or CRITICAL')
    status = raw
  }
  const l = read(r, 'load', 'load')
  if (l != null && (typeof l !== 'number' || !Number.isFinite(l) || l < 0 || l > 1e9)) fail('load', 'must be a number from 0 to 1e9')
  return { ...ref, status, load: l == null ? null : l as number }
}

/** Checks a SetMaintenance request. */
export function parseSetMaintenance (req: unknown): { service: string, instanceId: string, enabled: boolean, reason: string } {
  const r = asRequest(req)
  return { ...parseInstanceRef(r), enabled: bool(r, '', 'enabled'), reason: str(r, '', 'reason') }
}

/** Checks a request naming one service (BalancerStats). */
export function parseServiceRef (req: unknown): { service: string } {
  return { service: serviceName(asRequest(req), '', false) }
}

function balanceOf (r: Obj): BalanceQuery {
  const strategy = str(r, '', 'strategy')
  if (strategy !== '' && !isStrategy(strategy)) fail('strategy', `unknown strategy "${clip(strategy, 64)}"; one of ${[...STRATEGIES.keys()].join(', ')}`)
  return { strategy: strategy === '' ? 'round_robin' : strategy, hashKey: str(r, '', 'hash_key'), clientZone: str(r, '', 'client_zone') }
}

/**
 * Validates a WatchRequest. The resume token is only size-checked here: it
 * is a version vector that only the view can interpret, and a stale or foreign
 * one is answered with a snapshot rather than an error.
 * @throws InvalidArgumentError naming the first bad field.
 */
export function parseWatch (req: unknown): WatchQuery {
  const r = asRequest(req)
  return { service: serviceName(r, '', true), tags: tagsOf(r, ''), resumeToken: resumeToken(r) }
}

function fail (path: string, reason: string): never {
  throw new InvalidArgumentError(path, reason)
}

// Byte views and arrays are objects too, but never a message or a map.
function isObj (v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v)
}

function asRequest (req: unknown): Obj {
  if (!isObj(req)) fail('request', 'must be an object')
  return req
}

// A throwing getter or proxy trap is still the caller's garbage, not our crash.
function read (obj: Obj, key: string, path: string): unknown {
  try {
    return obj[key]
  } catch (err) {
    throw new InvalidArgumentError(path, 'cannot be read', { cause: err })
  }
}

function text (v: unknown, path: string, required: boolean, maxBytes: number): string {
  if (typeof v !== 'string') fail(path, 'must be a string')
  if (required && v.length === 0) fail(path, 'must not be empty')
  // UTF-8 never takes fewer bytes than UTF-16 code units, so a huge string
  // is rejected on its length without encoding it.
  if (v.length > maxBytes || Buffer.byteLength(v, 'utf8') > maxBytes) fail(path, `must be at most ${maxBytes} bytes`)
  // protobuf from the wire cannot hold one (Node decodes those bytes to U+FFFD); in-process callers can, and
  // such text can be neither sent back as UTF-8 nor put into a status
  if (!isWellFormed(v)) fail(path, 'must be valid Unicode (it holds a lone surrogate)')
  return v
}

/** Optional string field: null and undefined read as the proto default ''. */
function str (obj: Obj, prefix: string, key: string, opts: { required?: boolean, maxBytes?: number } = {}): string {
  const path = prefix + key
  const v = read(obj, key, path) ?? ''
  return text(v, path, opts.required ?? false, opts.maxBytes ?? MAX_TEXT_BYTES)
}

/** Integer field; one reason covers type and range, so the caller sees the contract at once. */
function int (obj: Obj, prefix: string, key: string, min: number, max: number): number {
  const path = prefix + key
  const v = read(obj, key, path) ?? 0
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(path, `must be an integer from ${min} to ${max}`)
  }
  return v + 0 // turns -0 into 0
}

function bool (obj: Obj, prefix: string, key: string): boolean {
  const path = prefix + key
  const v = read(obj, key, path) ?? false
  if (typeof v !== 'boolean') fail(path, 'must be a boolean')
  return v
}

function serviceName (obj: Obj, prefix: string, allowEmpty: boolean): string {
  const path = prefix + 'service'
  const v = str(obj, prefix, 'service', { required: !allowEmpty })
  if (v !== '' && !SERVICE_PATTERN.test(v)) {
    fail(path, 'must be 1-63 characters of a-z, 0-9, "." and "-", starting and ending with a letter or digit')
  }
  return v
}

// The id is half of the record key `service/instance_id`, hence no '/'.
function instanceId (obj: Obj, prefix: string, required: boolean): string {
  const path = prefix + 'instance_id'
  const v = str(obj, prefix, 'instance_id', { required })
  if (CONTROL_CHARS.test(v)) fail(path, 'must not contain control characters')
  if (v.includes('/')) fail(path, 'must not contain "/"')
  return v
}

function address (obj: Obj, prefix: string): string {
  const v = str(obj, prefix, 'address', { required: true, maxBytes: MAX_ADDRESS_BYTES })
  if (isIP(v) === 0 && !isHostname(v)) fail(prefix + 'address', 'must be an IP address or an RFC 1123 host name')
  return v
}

// Resolvers read an all-digit last label as an IPv4 number (inet_aton), so
// '300.1.2.3' or '12' would be a malformed IP, not a name: refuse it.
function isHostname (v: string): boolean {
  const labels = v.split('.')
  return labels.every((l) => LABEL_PATTERN.test(l)) && !ALL_DIGITS.test(labels[labels.length - 1] ?? '')
}

function tagsOf (obj: Obj, prefix: string): string[] {
  const path = prefix + 'tags'
  const v = read(obj, 'tags', path) ?? []
  if (!Array.isArray(v)) fail(path, 'must be an array of strings')
  // Checked before the loop so a huge array costs nothing.
  if (v.length > MAX_TAGS) fail(path, `must have at most ${MAX_TAGS} tags`)
  const tags = new Set<string>()
  for (let i = 0; i < v.length; i++) tags.add(text(v[i], `${path}[${i}]`, true, MAX_TEXT_BYTES))
  return [...tags]
}

function metadataOf (obj: Obj, prefix: string): Record<string, string> {
  const path = prefix + 'metadata'
  const v = read(obj, 'metadata', path) ?? {}
  // A Map or class instance would read as an empty map and silently drop pairs.
  if (!isObj(v) || ![Object.prototype, null].includes(Object.getPrototypeOf(v))) {
    fail(path, 'must be a map of string to string')
  }
  const keys = Object.keys(v)
  if (keys.length > MAX_METADATA_PAIRS) fail(path, `must have at most ${MAX_METADATA_PAIRS} pairs`)
  const entries: Array<[string, string]> = []
  for (const key of keys) {
    const at = `${path}[${quote(key)}]`
    if (key.length === 0 || key.length > MAX_TEXT_BYTES || Buffer.byteLength(key, 'utf8') > MAX_TEXT_BYTES) {
      fail(at, `key must be 1 to ${MAX_TEXT_BYTES} bytes`)
    }
    if (!isWellFormed(key)) fail(at, 'key must be valid Unicode (it holds a lone surrogate)')
    entries.push([key, text(read(v, key, at), at, false, MAX_TEXT_BYTES)])
  }
  // fromEntries defines own properties, so a '__proto__' key stays a plain key.
  return Object.fromEntries(entries)
}

// Keys go into error messages: quote them (escapes control characters) and
// cut long ones so a 1 MB key does not become a 1 MB status message.
function quote (key: string): string {
  return JSON.stringify(key.length > 64 ? `${clip(key, 64)}…` : key)
}

function resumeToken (obj: Obj): Uint8Array | null {
  const path = 'resume_token'
  const v = read(obj, 'resume_token', path)
  if (v === undefined || v === null) return null
  if (!(v instanceof Uint8Array)) fail(path, 'must be bytes')
  if (v.byteLength > MAX_RESUME_TOKEN_BYTES) fail(path, `must be at most ${MAX_RESUME_TOKEN_BYTES} bytes`)
  return v.byteLength === 0 ? null : v
}
