/**
 * The health check an owner runs for one instance, and its validation at the
 * gRPC boundary. Check kinds follow Consul (TTL, HTTP, TCP, gRPC); the
 * thresholds follow Kubernetes probes (`failureThreshold`, `successThreshold`).
 * Input is typed `unknown` on purpose, as in `node/api/validation.ts`: it is a
 * proto-loader object (keepCase, enums as strings, oneofs) when well formed,
 * and anything at all otherwise. Errors name fields by their proto paths.
 */
import { InvalidArgumentError } from '../errors.js'
import { clip } from '../api/text.js'

/** How the owner learns an instance's health. */
export type CheckKind = 'ttl' | 'http' | 'tcp' | 'grpc'

/** The statuses a check may start in (MAINTENANCE is an operator switch, never a check result). */
export type InitialStatus = 'PASSING' | 'WARNING' | 'CRITICAL'

/** A validated check. Every duration is in ms; every default is already applied. */
export interface CheckSpec {
  kind: CheckKind
  /** Present exactly when `kind` is 'http'. */
  http?: {
    /** The full http(s) URL, used as given; absent when `path` is used. */
    url?: string
    /** Requested as `http://address:port{path}`; absent when `url` is set. */
    path?: string
    /** GET, HEAD, POST or PUT; the request never has a body. */
    method: string
    /** The status that passes; 0 = any 2xx. 429 warns unless it is the expected one. */
    expectedStatus: number
    headers: Record<string, string>
  }
  /** Present exactly when `kind` is 'grpc'. */
  grpc?: {
    /** The name asked in HealthCheckRequest; '' asks about the whole server. */
    service: string
  }
  /** Time between two runs of an active check, from its own schedule. 1 s - 1 h. */
  intervalMs: number
  /** A run that has no answer after this long fails. 100 ms - interval, so runs never overlap. */
  timeoutMs: number
  /** Consecutive failures that take a served instance to CRITICAL (flap damping). 1 - 100. */
  failureThreshold: number
  /** Consecutive successes that take a CRITICAL instance back to served. 1 - 100. */
  successThreshold: number
  /** The status before the first result. */
  initialStatus: InitialStatus
  /** An instance CRITICAL for longer than this is deregistered; 0 = never, else at least 1 min. */
  deregisterCriticalAfterMs: number
}

/** The bounds `parseCheck` enforces. */
export const CHECK_LIMITS = Object.freeze({
  minIntervalMs: 1_000,
  maxIntervalMs: 3_600_000,
  minTimeoutMs: 100,
  minThreshold: 1,
  maxThreshold: 100,
  minDeregisterCriticalAfterMs: 60_000,
  maxHeaders: 32,
  maxHeaderBytes: 256,
  maxUrlBytes: 2048,
  maxPathBytes: 1024,
  maxGrpcServiceBytes: 256
})

/**
 * The check of an instance registered without one: TTL only, with the
 * Kubernetes probe defaults (period 10 s, failure 3, success 1) and a 2 s
 * timeout (Kubernetes' 1 s is tight for a check that crosses a WAN).
 */
export const DEFAULT_CHECK: Readonly<CheckSpec> = Object.freeze({
  kind: 'ttl',
  intervalMs: 10_000,
  timeoutMs: 2_000,
  failureThreshold: 3,
  successThreshold: 1,
  initialStatus: 'PASSING',
  deregisterCriticalAfterMs: 0
})

/**
 * The status a check starts in when the caller does not say.
 * TTL: PASSING. In Grapevine, Register is itself a sign of life from the
 * instance (or its agent), the TTL already removes it if heartbeats stop, and
 * records have always started PASSING; starting CRITICAL would hide every
 * instance whose client registers and then waits one TTL period to heartbeat.
 * Active (http, tcp, grpc): CRITICAL. This is a readiness check: Consul sets
 * new checks critical "to prevent services from entering the service pool
 * before they are confirmed to be healthy", and a Kubernetes readiness probe
 * is Failure until its first success. The cost is that a new instance is served
 * only after its first run (jittered within one interval) reaches `successThreshold`.
 */
export function defaultInitialStatus (kind: CheckKind): InitialStatus {
  return kind === 'ttl' ? 'PASSING' : 'CRITICAL'
}

const KINDS: readonly CheckKind[] = ['ttl', 'http', 'tcp', 'grpc']
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT'])
// Wire enum numbers, accepted too in case a caller loads the proto with enums as numbers.
const STATUS_BY_NUMBER = ['HEALTH_STATUS_UNSPECIFIED', 'PASSING', 'WARNING', 'CRITICAL', 'MAINTENANCE']
// RFC 9110 token: what node:http accepts as a header name.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// Visible ASCII, space and tab: no CR/LF (header injection), nothing node:http would refuse at request time.
const HEADER_VALUE = /^[\t\x20-\x7e]*$/
// Visible ASCII only: node:http refuses spaces and control characters in a path; others must be %-encoded.
const PATH = /^\/[\x21-\x7e]*$/
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/
// The request has no body: a caller-chosen length or framing would make the target wait for one and time out.
const FORBIDDEN_HEADERS = new Set(['content-length', 'transfer-encoding'])

type Obj = Record<string, unknown>

/**
 * Validates a `HealthCheck` message and applies its defaults (0 and unset
 * fields take the values in the proto comments).
 * @param raw - the proto-loader object, or anything
 * @param path - the proto path of the field, for error messages
 * @returns null when the check is absent (null or undefined): TTL only, {@link DEFAULT_CHECK}
 * @throws InvalidArgumentError naming the first bad field, e.g. `check.interval_ms`
 */
export function parseCheck (raw: unknown, path = 'check'): CheckSpec | null {
  if (raw === undefined || raw === null) return null
  try {
    return parseObject(raw, path)
  } catch (err) {
    // A revoked proxy or a throwing trap fails outside `read`: still the caller's garbage.
    if (err instanceof InvalidArgumentError) throw err
    throw new InvalidArgumentError(path, 'cannot be read', { cause: err })
  }
}

function parseObject (raw: unknown, path: string): CheckSpec {
  if (!isObj(raw)) fail(path, 'must be an object')
  const p = path + '.'
  const kind = kindOf(raw, path)
  const intervalMs = uintOr(raw, p + 'interval_ms', 'interval_ms', DEFAULT_CHECK.intervalMs,
    CHECK_LIMITS.minIntervalMs, CHECK_LIMITS.maxIntervalMs)
  // The default timeout shrinks with a short interval, so a 1 s interval needs no explicit timeout.
  const timeoutMs = uintOr(raw, p + 'timeout_ms', 'timeout_ms', Math.min(DEFAULT_CHECK.timeoutMs, intervalMs),
    CHECK_LIMITS.minTimeoutMs, intervalMs)
  const spec: CheckSpec = {
    kind,
    intervalMs,
    timeoutMs,
    failureThreshold: uintOr(raw, p + 'failure_threshold', 'failure_threshold', DEFAULT_CHECK.failureThreshold,
      CHECK_LIMITS.minThreshold, CHECK_LIMITS.maxThreshold),
    successThreshold: uintOr(raw, p + 'success_threshold', 'success_threshold', DEFAULT_CHECK.successThreshold,
      CHECK_LIMITS.minThreshold, CHECK_LIMITS.maxThreshold),
    initialStatus: initialStatusOf(raw, p + 'initial_status', kind),
    deregisterCriticalAfterMs: deregisterAfter(raw, p + 'deregister_critical_after_ms')
  }
  if (kind === 'http') spec.http = httpOf(read(raw, 'http', p + 'http') as Obj, p + 'http.')
  if (kind === 'grpc') spec.grpc = grpcOf(read(raw, 'grpc', p + 'grpc') as Obj, p + 'grpc.')
  return spec
}

// The oneof: exactly one member set; none set means ttl, as the proto documents.
function kindOf (raw: Obj, path: string): CheckKind {
  const set = KINDS.filter((k) => {
    const v = read(raw, k, `${path}.${k}`)
    if (v === undefined || v === null) return false
    if (!isObj(v)) fail(`${path}.${k}`, 'must be an object')
    return true
  })
  if (set.length > 1) fail(path, `must set only one of ${KINDS.join(', ')}; got ${set.join(', ')}`)
  const kind = set[0] ?? 'ttl'
  // proto-loader's `oneofs: true` names the set member in `kind`; a contradiction is a hand-built object.
  const named = read(raw, 'kind', `${path}.kind`)
  if (named !== undefined && named !== null && named !== '' && named !== kind) {
    fail(`${path}.kind`, `names ${clip(JSON.stringify(String(named)), 40)} but ${kind} is set`)
  }
  return kind
}

/** A uint field where 0 or unset means `dflt`; the reason states the whole contract. */
function uintOr (obj: Obj, path: string, key: string, dflt: number, min: number, max: number): number {
  const v = read(obj, key, path) ?? 0
  if (v === 0) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(path, `must be 0 (default ${dflt}) or an integer from ${min} to ${max}`)
  }
  return v
}

function initialStatusOf (obj: Obj, path: string, kind: CheckKind): InitialStatus {
  let v = read(obj, 'initial_status', path) ?? ''
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < STATUS_BY_NUMBER.length) v = STATUS_BY_NUMBER[v]
  if (v === '' || v === 'HEALTH_STATUS_UNSPECIFIED') return defaultInitialStatus(kind)
  if (v === 'PASSING' || v === 'WARNING' || v === 'CRITICAL') return v
  if (v === 'MAINTENANCE') fail(path, 'must be PASSING, WARNING or CRITICAL: maintenance is set with SetMaintenance')
  fail(path, 'must be PASSING, WARNING, CRITICAL or unset')
}

function deregisterAfter (obj: Obj, path: string): number {
  const v = read(obj, 'deregister_critical_after_ms', path) ?? 0
  const min = CHECK_LIMITS.minDeregisterCriticalAfterMs
  // A shorter delay would reap an instance on one bad deploy; Consul's reaper also runs at most once a minute.
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || (v !== 0 && v < min)) {
    fail(path, `must be 0 (never) or an integer of at least ${min}`)
  }
  return v
}

function httpOf (h: Obj, p: string): NonNullable<CheckSpec['http']> {
  const url = text(h, p, 'url', CHECK_LIMITS.maxUrlBytes)
  const path = text(h, p, 'path', CHECK_LIMITS.maxPathBytes)
  const method = text(h, p, 'method', 16) || 'GET'
  // Methods are case-sensitive (RFC 9110): 'get' is another method, not GET.
  if (!HTTP_METHODS.has(method)) fail(p + 'method', 'must be GET, HEAD, POST or PUT')
  const expectedStatus = read(h, 'expected_status', p + 'expected_status') ?? 0
  if (typeof expectedStatus !== 'number' || !Number.isInteger(expectedStatus) ||
      (expectedStatus !== 0 && (expectedStatus < 100 || expectedStatus > 599))) {
    fail(p + 'expected_status', 'must be 0 (any 2xx) or an integer from 100 to 599')
  }
  const headers = headersOf(h, p + 'headers')
  if (url !== '') {
    if (path !== '') fail(p + 'path', 'must be empty when url is set')
    checkUrl(url, p + 'url')
    return { url, method, expectedStatus, headers }
  }
  if (path !== '' && !PATH.test(path)) fail(p + 'path', 'must start with "/" and hold only visible ASCII (%-encode the rest)')
  return { path: path || '/', method, expectedStatus, headers }
}

function checkUrl (url: string, path: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (err) {
    throw new InvalidArgumentError(path, 'must be an absolute http or https URL', { cause: err })
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(path, 'must be an http or https URL')
  if (parsed.hostname === '') fail(path, 'must name a host')
  // The check is replicated to every node and returned by Discover: no secrets in it.
  if (parsed.username !== '' || parsed.password !== '') fail(path, 'must not contain credentials')
}

function headersOf (h: Obj, path: string): Record<string, string> {
  const v = read(h, 'headers', path) ?? {}
  // A Map or class instance would read as an empty map and silently drop headers.
  if (!isObj(v) || ![Object.prototype, null].includes(Object.getPrototypeOf(v))) fail(path, 'must be a map of string to string')
  const keys = Object.keys(v)
  const max = CHECK_LIMITS.maxHeaderBytes
  if (keys.length > CHECK_LIMITS.maxHeaders) fail(path, `must have at most ${CHECK_LIMITS.maxHeaders} pairs`)
  const seen = new Set<string>()
  const entries: Array<[string, string]> = []
  for (const key of keys) {
    const at = `${path}[${quote(key)}]`
    if (key.length > max || !HEADER_NAME.test(key)) fail(at, `name must be an HTTP token of 1 to ${max} bytes`)
    const lower = key.toLowerCase()
    if (FORBIDDEN_HEADERS.has(lower)) fail(at, 'must not be set: the request has no body')
    if (seen.has(lower)) fail(at, 'is set twice (header names ignore case)')
    seen.add(lower)
    const value = read(v, key, at)
    if (typeof value !== 'string') fail(at, 'must be a string')
    // HEADER_VALUE is ASCII-only, so length is the byte count.
    if (value.length > max) fail(at, `must be at most ${max} bytes`)
    if (!HEADER_VALUE.test(value)) fail(at, 'must hold only visible ASCII, spaces and tabs')
    entries.push([key, value])
  }
  // fromEntries defines own properties, so a '__proto__' key stays a plain key.
  return Object.fromEntries(entries)
}

function grpcOf (g: Obj, p: string): NonNullable<CheckSpec['grpc']> {
  const service = text(g, p, 'service', CHECK_LIMITS.maxGrpcServiceBytes)
  if (CONTROL_CHARS.test(service)) fail(p + 'service', 'must not contain control characters')
  return { service }
}

function text (obj: Obj, prefix: string, key: string, maxBytes: number): string {
  const path = prefix + key
  const v = read(obj, key, path) ?? ''
  if (typeof v !== 'string') fail(path, 'must be a string')
  // UTF-8 never takes fewer bytes than UTF-16 code units: a huge string is rejected unencoded.
  if (v.length > maxBytes || Buffer.byteLength(v, 'utf8') > maxBytes) fail(path, `must be at most ${maxBytes} bytes`)
  return v
}

function fail (path: string, reason: string): never {
  throw new InvalidArgumentError(path, reason)
}

// Byte views and arrays are objects too, but never a message or a map.
function isObj (v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v)
}

// A throwing getter or proxy trap is still the caller's garbage, not our crash.
function read (obj: Obj, key: string, path: string): unknown {
  try {
    return obj[key]
  } catch (err) {
    throw new InvalidArgumentError(path, 'cannot be read', { cause: err })
  }
}

// Keys go into error messages: quoted (control characters escaped) and cut.
function quote (key: string): string {
  return JSON.stringify(key.length > 64 ? `${clip(key, 64)}…` : key)
}
