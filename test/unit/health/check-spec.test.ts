import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../../node/errors.js'
import { CHECK_LIMITS, DEFAULT_CHECK, defaultInitialStatus, parseCheck } from '../../../node/health/check-spec.js'

/** What proto-loader hands a handler for `HealthCheck { http { path: "/healthz" } }` (defaults, oneofs, enums as strings). */
function protoLoaderHttp (): Record<string, unknown> {
  return {
    http: { url: '', path: '/healthz', method: '', expected_status: 0, headers: {} },
    interval_ms: 0,
    timeout_ms: 0,
    failure_threshold: 0,
    success_threshold: 0,
    initial_status: 'HEALTH_STATUS_UNSPECIFIED',
    deregister_critical_after_ms: 0,
    kind: 'http'
  }
}

function errorOf (raw: unknown, path?: string): InvalidArgumentError {
  try {
    parseCheck(raw, path)
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError)
    return err as InvalidArgumentError
  }
  throw new Error('parseCheck accepted ' + String(raw))
}

const http = (h: Record<string, unknown>): unknown => ({ http: h })
const headers = (n: number, valueBytes = 1): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`X-H${i}`, 'v'.repeat(valueBytes)]))

describe('DEFAULT_CHECK and defaults', () => {
  it('has the documented values', () => {
    expect(DEFAULT_CHECK).toEqual({
      kind: 'ttl',
      intervalMs: 10_000,
      timeoutMs: 2_000,
      failureThreshold: 3,
      successThreshold: 1,
      initialStatus: 'PASSING',
      deregisterCriticalAfterMs: 0
    })
    expect(Object.isFrozen(DEFAULT_CHECK)).toBe(true)
  })

  it.each([
    { kind: 'ttl', expected: 'PASSING' },
    { kind: 'http', expected: 'CRITICAL' },
    { kind: 'tcp', expected: 'CRITICAL' },
    { kind: 'grpc', expected: 'CRITICAL' }
  ] as const)('a $kind check starts $expected', ({ kind, expected }) => {
    expect(defaultInitialStatus(kind)).toBe(expected)
    expect(parseCheck({ [kind]: {} })?.initialStatus).toBe(expected)
  })

  it.each([null, undefined])('an absent check (%s) is null: TTL only', (raw) => {
    expect(parseCheck(raw)).toBeNull()
  })

  it.each([
    { name: 'an empty message', raw: {} },
    { name: 'an empty ttl', raw: { ttl: {} } },
    { name: 'proto-loader zeros', raw: { ttl: {}, interval_ms: 0, timeout_ms: 0, initial_status: 'HEALTH_STATUS_UNSPECIFIED', kind: 'ttl' } }
  ])('$name is the default TTL check', ({ raw }) => {
    expect(parseCheck(raw)).toEqual(DEFAULT_CHECK)
  })

  it('fills an HTTP check as proto-loader delivers it', () => {
    expect(parseCheck(protoLoaderHttp())).toEqual({
      kind: 'http',
      http: { path: '/healthz', method: 'GET', expectedStatus: 0, headers: {} },
      intervalMs: 10_000,
      timeoutMs: 2_000,
      failureThreshold: 3,
      successThreshold: 1,
      initialStatus: 'CRITICAL',
      deregisterCriticalAfterMs: 0
    })
  })

  it('requests / when neither url nor path is set', () => {
    expect(parseCheck({ http: {} })?.http).toEqual({ path: '/', method: 'GET', expectedStatus: 0, headers: {} })
  })

  it('keeps every explicit value', () => {
    const got = parseCheck({
      http: { url: 'https://svc.example:8443/ready?x=1', method: 'HEAD', expected_status: 204, headers: { Authorization: 'Bearer t' } },
      interval_ms: 30_000,
      timeout_ms: 5_000,
      failure_threshold: 5,
      success_threshold: 2,
      initial_status: 'WARNING',
      deregister_critical_after_ms: 600_000
    })
    expect(got).toEqual({
      kind: 'http',
      http: { url: 'https://svc.example:8443/ready?x=1', method: 'HEAD', expectedStatus: 204, headers: { Authorization: 'Bearer t' } },
      intervalMs: 30_000,
      timeoutMs: 5_000,
      failureThreshold: 5,
      successThreshold: 2,
      initialStatus: 'WARNING',
      deregisterCriticalAfterMs: 600_000
    })
  })

  it('shrinks the default timeout to a short interval', () => {
    expect(parseCheck({ tcp: {}, interval_ms: 1000 })?.timeoutMs).toBe(1000)
    expect(parseCheck({ tcp: {}, interval_ms: 1500 })?.timeoutMs).toBe(1500)
    expect(parseCheck({ tcp: {}, interval_ms: 2500 })?.timeoutMs).toBe(2000)
  })

  it.each([
    { raw: 1, expected: 'PASSING' },
    { raw: 2, expected: 'WARNING' },
    { raw: 3, expected: 'CRITICAL' },
    { raw: 0, expected: 'CRITICAL' },
    { raw: '', expected: 'CRITICAL' }
  ])('reads initial_status $raw (numeric enums too) as $expected', ({ raw, expected }) => {
    expect(parseCheck({ grpc: { service: '' }, initial_status: raw })?.initialStatus).toBe(expected)
  })

  it('carries the grpc service name', () => {
    expect(parseCheck({ grpc: { service: 'grapevine.v1.Registry' } })).toMatchObject({ kind: 'grpc', grpc: { service: 'grapevine.v1.Registry' } })
    expect(parseCheck({ grpc: {} })?.grpc).toEqual({ service: '' })
  })

  it('accepts every bound', () => {
    const max = CHECK_LIMITS.maxHeaderBytes
    expect(parseCheck({ tcp: {}, interval_ms: 1000, timeout_ms: 100, failure_threshold: 1, success_threshold: 100, deregister_critical_after_ms: 60_000 }))
      .toMatchObject({ intervalMs: 1000, timeoutMs: 100, failureThreshold: 1, successThreshold: 100, deregisterCriticalAfterMs: 60_000 })
    expect(parseCheck({ tcp: {}, interval_ms: 3_600_000, timeout_ms: 3_600_000 })).toMatchObject({ intervalMs: 3_600_000, timeoutMs: 3_600_000 })
    const h = { ...headers(31, max), ['X'.repeat(max)]: 'v' }
    expect(parseCheck(http({ headers: h }))?.http?.headers).toEqual(h)
    expect(parseCheck(http({ expected_status: 100 }))?.http?.expectedStatus).toBe(100)
    expect(parseCheck(http({ expected_status: 599 }))?.http?.expectedStatus).toBe(599)
    for (const method of ['GET', 'HEAD', 'POST', 'PUT']) expect(parseCheck(http({ method }))?.http?.method).toBe(method)
    expect(parseCheck(http({ url: 'http://[::1]:80/x' }))?.http?.url).toBe('http://[::1]:80/x')
  })

  it('keeps a "__proto__" header as a plain header', () => {
    const got = parseCheck(http({ headers: JSON.parse('{"__proto__":"x"}') }))?.http?.headers
    expect(Object.keys(got ?? {})).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype)
  })
})

describe('parseCheck: garbage', () => {
  const revoked = Proxy.revocable({}, {})
  revoked.revoke()
  const throwing = { tcp: {}, get interval_ms (): number { throw new Error('boom') } }

  it.each<{ name: string, raw: unknown, field: string }>([
    { name: 'a string', raw: 'http', field: 'check' },
    { name: 'an array', raw: [], field: 'check' },
    { name: 'bytes', raw: new Uint8Array(2), field: 'check' },
    { name: 'two kinds', raw: { http: {}, tcp: {} }, field: 'check' },
    { name: 'a kind that is not a message', raw: { http: 'GET /' }, field: 'check.http' },
    { name: 'a contradicting oneof name', raw: { tcp: {}, kind: 'http' }, field: 'check.kind' },
    { name: 'a revoked proxy', raw: revoked.proxy, field: 'check' },
    { name: 'a throwing getter', raw: throwing, field: 'check.interval_ms' },
    { name: 'interval below 1 s', raw: { interval_ms: 999 }, field: 'check.interval_ms' },
    { name: 'interval above 1 h', raw: { interval_ms: 3_600_001 }, field: 'check.interval_ms' },
    { name: 'a fractional interval', raw: { interval_ms: 1500.5 }, field: 'check.interval_ms' },
    { name: 'an interval as a string', raw: { interval_ms: '10000' }, field: 'check.interval_ms' },
    { name: 'a NaN interval', raw: { interval_ms: NaN }, field: 'check.interval_ms' },
    { name: 'a negative interval', raw: { interval_ms: -1000 }, field: 'check.interval_ms' },
    { name: 'timeout below 100 ms', raw: { timeout_ms: 99 }, field: 'check.timeout_ms' },
    { name: 'timeout above the interval', raw: { interval_ms: 5000, timeout_ms: 5001 }, field: 'check.timeout_ms' },
    { name: 'failure threshold above 100', raw: { failure_threshold: 101 }, field: 'check.failure_threshold' },
    { name: 'negative failure threshold', raw: { failure_threshold: -1 }, field: 'check.failure_threshold' },
    { name: 'fractional success threshold', raw: { success_threshold: 0.5 }, field: 'check.success_threshold' },
    { name: 'success threshold as a boolean', raw: { success_threshold: true }, field: 'check.success_threshold' },
    { name: 'initial MAINTENANCE', raw: { initial_status: 'MAINTENANCE' }, field: 'check.initial_status' },
    { name: 'initial MAINTENANCE as a number', raw: { initial_status: 4 }, field: 'check.initial_status' },
    { name: 'a lowercase initial status', raw: { initial_status: 'passing' }, field: 'check.initial_status' },
    { name: 'an unknown enum number', raw: { initial_status: 7 }, field: 'check.initial_status' },
    { name: 'an object as status', raw: { initial_status: {} }, field: 'check.initial_status' },
    { name: 'deregister under a minute', raw: { deregister_critical_after_ms: 59_999 }, field: 'check.deregister_critical_after_ms' },
    { name: 'negative deregister', raw: { deregister_critical_after_ms: -1 }, field: 'check.deregister_critical_after_ms' },
    { name: 'unsafe deregister', raw: { deregister_critical_after_ms: 2 ** 53 }, field: 'check.deregister_critical_after_ms' },
    { name: 'deregister as a string (longs: String)', raw: { deregister_critical_after_ms: '60000' }, field: 'check.deregister_critical_after_ms' },
    { name: 'lowercase method', raw: http({ method: 'get' }), field: 'check.http.method' },
    { name: 'DELETE', raw: http({ method: 'DELETE' }), field: 'check.http.method' },
    { name: 'a numeric method', raw: http({ method: 1 }), field: 'check.http.method' },
    { name: 'an ftp url', raw: http({ url: 'ftp://example.com/' }), field: 'check.http.url' },
    { name: 'a relative url', raw: http({ url: '/healthz' }), field: 'check.http.url' },
    { name: 'a url with credentials', raw: http({ url: 'http://user:pw@example.com/' }), field: 'check.http.url' },
    { name: 'a url too long', raw: http({ url: 'http://a/' + 'x'.repeat(CHECK_LIMITS.maxUrlBytes) }), field: 'check.http.url' },
    { name: 'url and path', raw: http({ url: 'http://a/', path: '/b' }), field: 'check.http.path' },
    { name: 'a path without /', raw: http({ path: 'healthz' }), field: 'check.http.path' },
    { name: 'a path with a space', raw: http({ path: '/a b' }), field: 'check.http.path' },
    { name: 'a path with CRLF', raw: http({ path: '/a\r\nHost: evil' }), field: 'check.http.path' },
    { name: 'a path too long', raw: http({ path: '/' + 'a'.repeat(CHECK_LIMITS.maxPathBytes) }), field: 'check.http.path' },
    { name: 'expected 99', raw: http({ expected_status: 99 }), field: 'check.http.expected_status' },
    { name: 'expected 600', raw: http({ expected_status: 600 }), field: 'check.http.expected_status' },
    { name: 'expected as a string', raw: http({ expected_status: '200' }), field: 'check.http.expected_status' },
    { name: '33 headers', raw: http({ headers: headers(33) }), field: 'check.http.headers' },
    { name: 'headers as a Map', raw: http({ headers: new Map([['a', 'b']]) }), field: 'check.http.headers' },
    { name: 'headers as an array', raw: http({ headers: [['a', 'b']] }), field: 'check.http.headers' },
    { name: 'a header name with a space', raw: http({ headers: { 'Bad Name': 'x' } }), field: 'check.http.headers["Bad Name"]' },
    { name: 'an empty header name', raw: http({ headers: { '': 'x' } }), field: 'check.http.headers[""]' },
    { name: 'a header name too long', raw: http({ headers: { ['X'.repeat(257)]: 'x' } }), field: `check.http.headers[${JSON.stringify('X'.repeat(64) + '…')}]` },
    { name: 'a header value with CRLF', raw: http({ headers: { 'X-A': 'a\r\nX-B: b' } }), field: 'check.http.headers["X-A"]' },
    { name: 'a header value too long', raw: http({ headers: { 'X-A': 'v'.repeat(257) } }), field: 'check.http.headers["X-A"]' },
    { name: 'a non-ASCII header value', raw: http({ headers: { 'X-A': 'é' } }), field: 'check.http.headers["X-A"]' },
    { name: 'a numeric header value', raw: http({ headers: { 'X-A': 1 } }), field: 'check.http.headers["X-A"]' },
    { name: 'Content-Length', raw: http({ headers: { 'Content-Length': '5' } }), field: 'check.http.headers["Content-Length"]' },
    { name: 'a header set twice', raw: http({ headers: { 'X-A': '1', 'x-a': '2' } }), field: 'check.http.headers["x-a"]' },
    { name: 'a numeric grpc service', raw: { grpc: { service: 5 } }, field: 'check.grpc.service' },
    { name: 'a grpc service with NUL', raw: { grpc: { service: 'a\u0000b' } }, field: 'check.grpc.service' },
    { name: 'a grpc service too long', raw: { grpc: { service: 's'.repeat(257) } }, field: 'check.grpc.service' }
  ])('$name → InvalidArgumentError on $field', ({ raw, field }) => {
    const err = errorOf(raw)
    expect(err.field).toBe(field)
    expect(err.name).toBe('InvalidArgumentError')
  })

  it('names fields under the path it is given', () => {
    expect(errorOf({ tcp: {}, interval_ms: 1 }, 'instance.check').field).toBe('instance.check.interval_ms')
    expect(errorOf({ http: { method: 'X' } }, 'instance.check').field).toBe('instance.check.http.method')
  })

  it('keeps the cause of an unreadable field', () => {
    expect(errorOf(throwing).cause).toBeInstanceOf(Error)
  })
})
