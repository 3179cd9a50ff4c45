import { describe, it, expect } from 'vitest'
import { InvalidArgumentError } from '../../node/errors.js'
import { parseRegister, parseInstanceRef, parseDiscover, parseWatch, parsePick, parseHeartbeat, parseSetMaintenance, parseServiceRef } from '../../node/api/validation.js'
const RR = { strategy: 'round_robin', hashKey: '', clientZone: '' }

const DEFAULT_TTL_MS = 30_000

/** An Instance as proto-loader delivers it (defaults: true), output fields included. */
function instance (over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    service: 'payments',
    instance_id: 'p-1',
    address: '10.0.0.1',
    port: 8080,
    protocol: 'grpc',
    version: '1.2.3',
    tags: ['blue', 'canary'],
    metadata: { region: 'eu' },
    weight: 0,
    zone: 'eu-west-1a',
    status: 'CRITICAL',
    owner_node: 'someone-else',
    registered_at_ms: 123,
    updated_at_ms: 456,
    ...over
  }
}

function register (over: Record<string, unknown> = {}, req: Record<string, unknown> = {}): Record<string, unknown> {
  return { instance: instance(over), ttl_seconds: 0, ...req }
}

/** Runs `fn` and returns what it threw; fails the test when it returns. */
function thrown (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

function expectInvalid (fn: () => unknown, field: string): InvalidArgumentError {
  const err = thrown(fn)
  expect(err).toBeInstanceOf(InvalidArgumentError)
  expect((err as InvalidArgumentError).field).toBe(field)
  return err as InvalidArgumentError
}

const bytes = (n: number, ch = 'a'): string => ch.repeat(n)
const manyTags = (n: number): string[] => Array.from({ length: n }, (_, i) => `t${i}`)
const manyPairs = (n: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']))

describe('parseRegister', () => {
  it('normalizes a full request and ignores output fields', () => {
    expect(parseRegister(register(), DEFAULT_TTL_MS)).toEqual({
      instance: {
        service: 'payments',
        instanceId: 'p-1',
        address: '10.0.0.1',
        port: 8080,
        protocol: 'grpc',
        version: '1.2.3',
        tags: ['blue', 'canary'],
        metadata: { region: 'eu' },
        weight: 100,
        zone: 'eu-west-1a'
      },
      ttlMs: DEFAULT_TTL_MS
    })
  })

  it('fills defaults for a minimal request with missing fields', () => {
    const out = parseRegister({ instance: { service: 'a', address: 'localhost', port: 1 } }, 5000)
    expect(out).toEqual({
      instance: {
        service: 'a',
        instanceId: '',
        address: 'localhost',
        port: 1,
        protocol: '',
        version: '',
        tags: [],
        metadata: {},
        weight: 100,
        zone: ''
      },
      ttlMs: 5000
    })
  })

  it.each<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]>([
    ['empty instance_id kept for generation', { instance_id: '' }, {}, { instanceId: '' }],
    ['256-byte instance_id', { instance_id: bytes(256) }, {}, { instanceId: bytes(256) }],
    ['service with dots and dashes', { service: 'a.b-c9' }, {}, { service: 'a.b-c9' }],
    ['63-char service', { service: bytes(63) }, {}, { service: bytes(63) }],
    ['IPv6 address', { address: '2001:db8::1' }, {}, { address: '2001:db8::1' }],
    ['IPv6 address with zone', { address: 'fe80::1%eth0' }, {}, { address: 'fe80::1%eth0' }],
    ['hostname', { address: 'svc-1.eu.example.com' }, {}, { address: 'svc-1.eu.example.com' }],
    ['253-byte hostname', { address: `${bytes(63)}.${bytes(63)}.${bytes(63)}.${bytes(61)}` }, {},
      { address: `${bytes(63)}.${bytes(63)}.${bytes(63)}.${bytes(61)}` }],
    ['port 65535', { port: 65535 }, {}, { port: 65535 }],
    ['duplicate tags deduped in order', { tags: ['b', 'a', 'b', 'c', 'a'] }, {}, { tags: ['b', 'a', 'c'] }],
    ['64 tags', { tags: manyTags(64) }, {}, { tags: manyTags(64) }],
    ['255-byte multibyte tag', { tags: [bytes(85, '€')] }, {}, { tags: [bytes(85, '€')] }],
    ['64 metadata pairs', { metadata: manyPairs(64) }, {}, { metadata: manyPairs(64) }],
    ['empty metadata value', { metadata: { k: '' } }, {}, { metadata: { k: '' } }],
    ['null-prototype metadata', { metadata: Object.assign(Object.create(null), { k: 'v' }) }, {}, { metadata: { k: 'v' } }],
    ['weight 7', { weight: 7 }, {}, { weight: 7 }],
    ['weight 10000', { weight: 10000 }, {}, { weight: 10000 }],
    ['null optional fields', { protocol: null, version: undefined, tags: null, metadata: null, zone: null }, {},
      { protocol: '', version: '', tags: [], metadata: {}, zone: '' }]
  ])('accepts %s', (_name, over, req, expected) => {
    expect(parseRegister(register(over, req), DEFAULT_TTL_MS).instance).toMatchObject(expected)
  })

  it.each<[number | undefined | null, number]>([
    [0, DEFAULT_TTL_MS],
    [undefined, DEFAULT_TTL_MS],
    [null, DEFAULT_TTL_MS],
    [1, 1000],
    [86400, 86_400_000]
  ])('maps ttl_seconds %s to %s ms', (ttl, ms) => {
    expect(parseRegister(register({}, { ttl_seconds: ttl }), DEFAULT_TTL_MS).ttlMs).toBe(ms)
  })

  it('keeps a "__proto__" metadata key as a plain key', () => {
    const metadata = JSON.parse('{"__proto__":"x"}') as Record<string, unknown>
    const out = parseRegister(register({ metadata }), DEFAULT_TTL_MS).instance.metadata
    expect(Object.keys(out)).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
  })

  it.each<[string, unknown, string]>([
    ['null request', null, 'request'],
    ['string request', 'hello', 'request'],
    ['array request', [], 'request'],
    ['missing instance', {}, 'instance'],
    ['null instance', { instance: null }, 'instance'],
    ['instance as a string', { instance: 'payments' }, 'instance'],
    ['instance as an array', { instance: [] }, 'instance'],
    ['missing service', { instance: instance({ service: undefined }) }, 'instance.service'],
    ['empty service', register({ service: '' }), 'instance.service'],
    ['service Bad_Name', register({ service: 'Bad_Name' }), 'instance.service'],
    ['service of 64 chars', register({ service: bytes(64) }), 'instance.service'],
    ['service ending in a dash', register({ service: 'abc-' }), 'instance.service'],
    ['service starting with a dot', register({ service: '.abc' }), 'instance.service'],
    ['service as a number', register({ service: 42 }), 'instance.service'],
    ['huge service', register({ service: bytes(5_000_000) }), 'instance.service'],
    ['instance_id of 257 bytes', register({ instance_id: bytes(257) }), 'instance.instance_id'],
    ['instance_id of 86 euro signs (258 bytes)', register({ instance_id: bytes(86, '€') }), 'instance.instance_id'],
    ['instance_id with a newline', register({ instance_id: 'a\nb' }), 'instance.instance_id'],
    ['instance_id with DEL', register({ instance_id: 'a\u007fb' }), 'instance.instance_id'],
    ['instance_id with a slash', register({ instance_id: 'a/b' }), 'instance.instance_id'],
    ['instance_id as an object', register({ instance_id: {} }), 'instance.instance_id'],
    ['missing address', register({ address: undefined }), 'instance.address'],
    ['empty address', register({ address: '' }), 'instance.address'],
    ['address of 254 bytes', register({ address: `${bytes(63)}.${bytes(63)}.${bytes(63)}.${bytes(62)}` }), 'instance.address'],
    ['address with an underscore', register({ address: 'bad_host' }), 'instance.address'],
    ['address with a port', register({ address: '10.0.0.1:80' }), 'instance.address'],
    ['address label starting with a dash', register({ address: '-a.example.com' }), 'instance.address'],
    ['address with an empty label', register({ address: 'a..b' }), 'instance.address'],
    ['address label of 64 chars', register({ address: `${bytes(64)}.com` }), 'instance.address'],
    ['malformed IPv4', register({ address: '300.1.2.3' }), 'instance.address'],
    ['bracketed IPv6', register({ address: '[::1]' }), 'instance.address'],
    ['address as an array', register({ address: ['10.0.0.1'] }), 'instance.address'],
    ['missing port', register({ port: undefined }), 'instance.port'],
    ['port 0', register({ port: 0 }), 'instance.port'],
    ['port as \'80\'', register({ port: '80' }), 'instance.port'],
    ['port 70000', register({ port: 70000 }), 'instance.port'],
    ['port 1.5', register({ port: 1.5 }), 'instance.port'],
    ['port -1', register({ port: -1 }), 'instance.port'],
    ['port NaN', register({ port: Number.NaN }), 'instance.port'],
    ['port Infinity', register({ port: Number.POSITIVE_INFINITY }), 'instance.port'],
    ['port as a bigint', register({ port: 80n }), 'instance.port'],
    ['protocol of 257 bytes', register({ protocol: bytes(257) }), 'instance.protocol'],
    ['protocol as a number', register({ protocol: 1 }), 'instance.protocol'],
    ['version of 257 bytes', register({ version: bytes(257) }), 'instance.version'],
    ['version as a boolean', register({ version: true }), 'instance.version'],
    ['tags not an array', register({ tags: 'blue' }), 'instance.tags'],
    ['tags as an object', register({ tags: { 0: 'blue' } }), 'instance.tags'],
    ['65 tags', register({ tags: manyTags(65) }), 'instance.tags'],
    ['huge tags array', register({ tags: new Array(1_000_000).fill('x') }), 'instance.tags'],
    ['257-byte tag', register({ tags: ['a', 'b', 'c', bytes(257)] }), 'instance.tags[3]'],
    ['multibyte tag over 256 bytes', register({ tags: [bytes(86, '€')] }), 'instance.tags[0]'],
    ['empty tag', register({ tags: ['a', ''] }), 'instance.tags[1]'],
    ['non-string tag', register({ tags: ['a', 1] }), 'instance.tags[1]'],
    ['null tag', register({ tags: [null] }), 'instance.tags[0]'],
    ['nested array tag', register({ tags: [['a']] }), 'instance.tags[0]'],
    ['metadata with 65 pairs', register({ metadata: manyPairs(65) }), 'instance.metadata'],
    ['metadata as an array', register({ metadata: [['k', 'v']] }), 'instance.metadata'],
    ['metadata as a string', register({ metadata: 'k=v' }), 'instance.metadata'],
    ['metadata as a Map', register({ metadata: new Map([['k', 'v']]) }), 'instance.metadata'],
    ['metadata value a number', register({ metadata: { key: 1 } }), 'instance.metadata["key"]'],
    ['metadata value null', register({ metadata: { key: null } }), 'instance.metadata["key"]'],
    ['metadata value an object', register({ metadata: { key: { nested: 'x' } } }), 'instance.metadata["key"]'],
    ['metadata value of 257 bytes', register({ metadata: { key: bytes(257) } }), 'instance.metadata["key"]'],
    ['metadata empty key', register({ metadata: { '': 'v' } }), 'instance.metadata[""]'],
    ['metadata key of 257 bytes', register({ metadata: { [bytes(257)]: 'v' } }), `instance.metadata["${bytes(64)}…"]`],
    ['metadata key with a quote', register({ metadata: { 'a"b': 1 } }), 'instance.metadata["a\\"b"]'],
    ['weight 10001', register({ weight: 10001 }), 'instance.weight'],
    ['weight -1', register({ weight: -1 }), 'instance.weight'],
    ['weight 2.5', register({ weight: 2.5 }), 'instance.weight'],
    ['weight as a string', register({ weight: '100' }), 'instance.weight'],
    ['zone of 257 bytes', register({ zone: bytes(257) }), 'instance.zone'],
    ['zone as an array', register({ zone: ['eu'] }), 'instance.zone'],
    ['ttl_seconds 86401', register({}, { ttl_seconds: 86401 }), 'ttl_seconds'],
    ['ttl_seconds -1', register({}, { ttl_seconds: -1 }), 'ttl_seconds'],
    ['ttl_seconds 0.5', register({}, { ttl_seconds: 0.5 }), 'ttl_seconds'],
    ['ttl_seconds as a string', register({}, { ttl_seconds: '30' }), 'ttl_seconds']
  ])('rejects %s', (_name, req, field) => {
    expectInvalid(() => parseRegister(req, DEFAULT_TTL_MS), field)
  })

  it('keeps error messages short for huge keys', () => {
    const err = expectInvalid(() => parseRegister(register({ metadata: { [bytes(1_000_000)]: 'v' } }), DEFAULT_TTL_MS),
      `instance.metadata["${bytes(64)}…"]`)
    expect(err.message.length).toBeLessThan(200)
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['instance_id', { instance_id: 'p-\ud83d' }, 'instance.instance_id'],
    ['a tag', { tags: ['ok', '\ude00'] }, 'instance.tags[1]'],
    ['a metadata value', { metadata: { region: 'eu\ud83d' } }, 'instance.metadata["region"]'],
    ['a metadata key', { metadata: { 'k\ud83d': 'v' } }, 'instance.metadata["k\\ud83d"]'],
    ['version', { version: '\udc00' }, 'instance.version']
  ])('rejects a lone surrogate in %s, and says so in well-formed text', (_name, over, field) => {
    const err = expectInvalid(() => parseRegister(register(over), DEFAULT_TTL_MS), field)
    expect(err.message).toContain('lone surrogate')
    expect(() => encodeURI(err.message)).not.toThrow()
  })

  it('takes a well-formed emoji anywhere text goes', () => {
    const r = parseRegister(register({ instance_id: 'p-\u{1F600}', tags: ['\u{1F600}'], metadata: { '\u{1F600}': '\u{1F600}' } }), DEFAULT_TTL_MS)
    expect(r.instance.instanceId).toBe('p-\u{1F600}')
  })

  it('turns a throwing getter into an InvalidArgumentError', () => {
    const inst = instance()
    Object.defineProperty(inst, 'port', { enumerable: true, get () { throw new TypeError('boom') } })
    expectInvalid(() => parseRegister({ instance: inst }, DEFAULT_TTL_MS), 'instance.port')
  })
})

describe('parseInstanceRef', () => {
  it.each<[string, unknown, { service: string, instanceId: string }]>([
    ['a plain ref', { service: 'payments', instance_id: 'p-1' }, { service: 'payments', instanceId: 'p-1' }],
    ['extra fields', { service: 'a', instance_id: 'x y', other: 1 }, { service: 'a', instanceId: 'x y' }]
  ])('accepts %s', (_name, req, expected) => {
    expect(parseInstanceRef(req)).toEqual(expected)
  })

  it.each<[string, unknown, string]>([
    ['null request', null, 'request'],
    ['number request', 7, 'request'],
    ['missing service', { instance_id: 'p-1' }, 'service'],
    ['service Bad_Name', { service: 'Bad_Name', instance_id: 'p-1' }, 'service'],
    ['missing instance_id', { service: 'payments' }, 'instance_id'],
    ['empty instance_id', { service: 'payments', instance_id: '' }, 'instance_id'],
    ['instance_id with a slash', { service: 'payments', instance_id: 'a/b' }, 'instance_id'],
    ['instance_id with a tab', { service: 'payments', instance_id: 'a\tb' }, 'instance_id'],
    ['instance_id of 257 bytes', { service: 'payments', instance_id: bytes(257) }, 'instance_id'],
    ['instance_id as a number', { service: 'payments', instance_id: 1 }, 'instance_id']
  ])('rejects %s', (_name, req, field) => {
    expectInvalid(() => parseInstanceRef(req), field)
  })
})

describe('parseDiscover', () => {
  const discover = (over: Record<string, unknown> = {}): Record<string, unknown> =>
    ({ service: 'payments', tags: [], metadata: {}, zone: '', include_unhealthy: false, limit: 0, ...over })

  it.each<[string, unknown, Record<string, unknown>]>([
    ['defaults', discover(), { service: 'payments', tags: [], metadata: {}, zone: '', includeUnhealthy: false, limit: 0, balance: RR }],
    ['missing optional fields', { service: 'payments' },
      { service: 'payments', tags: [], metadata: {}, zone: '', includeUnhealthy: false, limit: 0, balance: RR }],
    ['every filter', discover({ tags: ['a', 'a', 'b'], metadata: { k: 'v' }, zone: 'z1', include_unhealthy: true, limit: 100000 }),
      { service: 'payments', tags: ['a', 'b'], metadata: { k: 'v' }, zone: 'z1', includeUnhealthy: true, limit: 100000, balance: RR }]
  ])('accepts %s', (_name, req, expected) => {
    expect(parseDiscover(req)).toEqual(expected)
  })

  it.each<[string, unknown, string]>([
    ['null request', null, 'request'],
    ['missing service', {}, 'service'],
    ['empty service', discover({ service: '' }), 'service'],
    ['service of 64 chars', discover({ service: bytes(64) }), 'service'],
    ['tags not an array', discover({ tags: 'a' }), 'tags'],
    ['65 tags', discover({ tags: manyTags(65) }), 'tags'],
    ['257-byte tag', discover({ tags: ['a', bytes(257)] }), 'tags[1]'],
    ['metadata with 65 pairs', discover({ metadata: manyPairs(65) }), 'metadata'],
    ['metadata value a number', discover({ metadata: { k: 2 } }), 'metadata["k"]'],
    ['zone of 257 bytes', discover({ zone: bytes(257) }), 'zone'],
    ['include_unhealthy as a string', discover({ include_unhealthy: 'true' }), 'include_unhealthy'],
    ['include_unhealthy as 1', discover({ include_unhealthy: 1 }), 'include_unhealthy'],
    ['limit 100001', discover({ limit: 100001 }), 'limit'],
    ['limit -1', discover({ limit: -1 }), 'limit'],
    ['limit 1.5', discover({ limit: 1.5 }), 'limit'],
    ['limit as a string', discover({ limit: '10' }), 'limit'],
    ['an unknown strategy', discover({ strategy: 'fastest' }), 'strategy'],
    ['strategy as a number', discover({ strategy: 3 }), 'strategy'],
    ['hash_key of 257 bytes', discover({ hash_key: bytes(257) }), 'hash_key']
  ])('rejects %s', (_name, req, field) => {
    expectInvalid(() => parseDiscover(req), field)
  })

  it('takes a strategy, hash key and client zone', () => {
    expect(parseDiscover(discover({ strategy: 'ring_hash', hash_key: 'user-7', client_zone: 'z2' })).balance)
      .toEqual({ strategy: 'ring_hash', hashKey: 'user-7', clientZone: 'z2' })
  })
})

describe('parsePick, parseHeartbeat, parseSetMaintenance, parseServiceRef', () => {
  it('parsePick defaults to round robin', () => {
    expect(parsePick({ service: 'payments' })).toEqual({ service: 'payments', tags: [], metadata: {}, balance: RR })
  })

  it.each<[string, unknown, unknown]>([
    ['nothing reported', { service: 'a', instance_id: 'i' }, { service: 'a', instanceId: 'i', status: null, load: null }],
    ['unspecified status', { service: 'a', instance_id: 'i', status: 'HEALTH_STATUS_UNSPECIFIED' }, { service: 'a', instanceId: 'i', status: null, load: null }],
    ['WARNING and a load of 0', { service: 'a', instance_id: 'i', status: 'WARNING', load: 0 }, { service: 'a', instanceId: 'i', status: 'WARNING', load: 0 }],
    ['CRITICAL and 12 in flight', { service: 'a', instance_id: 'i', status: 'CRITICAL', load: 12 }, { service: 'a', instanceId: 'i', status: 'CRITICAL', load: 12 }]
  ])('parseHeartbeat: %s', (_n, req, expected) => {
    expect(parseHeartbeat(req)).toEqual(expected)
  })

  it.each<[string, unknown, string]>([
    ['MAINTENANCE reported', { service: 'a', instance_id: 'i', status: 'MAINTENANCE' }, 'status'],
    ['an unknown status', { service: 'a', instance_id: 'i', status: 'GREAT' }, 'status'],
    ['a negative load', { service: 'a', instance_id: 'i', load: -1 }, 'load'],
    ['a load that is not a number', { service: 'a', instance_id: 'i', load: '3' }, 'load'],
    ['no instance id', { service: 'a' }, 'instance_id']
  ])('parseHeartbeat rejects %s', (_n, req, field) => {
    expectInvalid(() => parseHeartbeat(req), field)
  })

  it('parseSetMaintenance and parseServiceRef', () => {
    expect(parseSetMaintenance({ service: 'a', instance_id: 'i', enabled: true, reason: 'deploy' })).toEqual({ service: 'a', instanceId: 'i', enabled: true, reason: 'deploy' })
    expectInvalid(() => parseSetMaintenance({ service: 'a', instance_id: 'i', enabled: 'yes' }), 'enabled')
    expect(parseServiceRef({ service: 'a' })).toEqual({ service: 'a' })
    expectInvalid(() => parseServiceRef({ service: 'A!' }), 'service')
  })
})

describe('parseWatch', () => {
  const token = new Uint8Array([1, 2, 3])

  it.each<[string, unknown, Record<string, unknown>]>([
    ['all services', { service: '', tags: [], resume_token: Buffer.alloc(0) }, { service: '', tags: [], resumeToken: null }],
    ['missing fields', {}, { service: '', tags: [], resumeToken: null }],
    ['one service with tags', { service: 'payments', tags: ['x', 'x'] }, { service: 'payments', tags: ['x'], resumeToken: null }],
    ['a Uint8Array token', { service: 'a', resume_token: token }, { service: 'a', tags: [], resumeToken: token }],
    ['a Buffer token', { resume_token: Buffer.from([9]) }, { service: '', tags: [], resumeToken: Buffer.from([9]) }]
  ])('accepts %s', (_name, req, expected) => {
    expect(parseWatch(req)).toEqual(expected)
  })

  it('passes the token through without copying or decoding it', () => {
    expect(parseWatch({ resume_token: token }).resumeToken).toBe(token)
  })

  it('accepts a token of exactly 1 MiB', () => {
    const big = Buffer.alloc(1024 * 1024, 1)
    expect(parseWatch({ resume_token: big }).resumeToken).toBe(big)
  })

  it.each<[string, unknown, string]>([
    ['null request', null, 'request'],
    ['service Bad_Name', { service: 'Bad_Name' }, 'service'],
    ['service as a number', { service: 1 }, 'service'],
    ['tags not an array', { tags: 'a' }, 'tags'],
    ['65 tags', { tags: manyTags(65) }, 'tags'],
    ['empty tag', { tags: [''] }, 'tags[0]'],
    ['resume_token as a string', { resume_token: 'abc' }, 'resume_token'],
    ['resume_token as an array', { resume_token: [1, 2, 3] }, 'resume_token'],
    ['resume_token as an ArrayBuffer', { resume_token: new ArrayBuffer(3) }, 'resume_token'],
    ['resume_token over 1 MiB', { resume_token: Buffer.alloc(1024 * 1024 + 1) }, 'resume_token']
  ])('rejects %s', (_name, req, field) => {
    expectInvalid(() => parseWatch(req), field)
  })
})

describe('garbage never escapes as anything but InvalidArgumentError', () => {
  const garbage: unknown[] = [
    undefined, null, 0, -0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 10n, true, '', 'x',
    bytes(2_000_000), [], [null], [[[]]], {}, { a: { b: {} } }, Symbol('s'), () => 1, new Uint8Array(4),
    new Map(), new Date(0), Object.create(null)
  ]
  const cases: Array<[string, (req: unknown) => unknown, () => Record<string, unknown>, string[]]> = [
    ['parseRegister', (r) => parseRegister(r, DEFAULT_TTL_MS), () => register(), ['instance', 'ttl_seconds']],
    ['parseRegister instance', (r) => parseRegister(r, DEFAULT_TTL_MS), () => register(),
      Object.keys(instance()).map((k) => `instance.${k}`)],
    ['parseInstanceRef', parseInstanceRef, () => ({ service: 'a', instance_id: 'b' }), ['service', 'instance_id']],
    ['parseDiscover', parseDiscover, () => ({ service: 'a' }),
      ['service', 'tags', 'metadata', 'zone', 'include_unhealthy', 'limit']],
    ['parseWatch', parseWatch, () => ({}), ['service', 'tags', 'resume_token']]
  ]

  it.each(cases)('%s', (_name, parse, base, fields) => {
    for (const field of fields) {
      for (const value of garbage) {
        const req = base()
        const [head, tail] = field.split('.') as [string, string | undefined]
        if (tail === undefined) req[head] = value
        else (req[head] as Record<string, unknown>)[tail] = value
        for (const candidate of [req, value]) {
          try {
            parse(candidate)
          } catch (err) {
            expect(err).toBeInstanceOf(InvalidArgumentError)
          }
        }
      }
    }
  })
})
