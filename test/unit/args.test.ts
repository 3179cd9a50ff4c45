import { describe, expect, it } from 'vitest'
import { flagsHelp, parseFlags, parseHostPort } from '../../node/cli/args.js'
import type { FlagSpec } from '../../node/cli/node-flags.js'
import { InvalidArgumentError } from '../../node/errors.js'

const SPECS: readonly FlagSpec[] = [
  { name: 'data-dir', help: 'required, no default' },
  { name: 'grpc', help: 'has a default', default: '127.0.0.1:7000' },
  { name: 'join', help: 'empty default, a list', default: '', list: true }
]

/** The error `fn` throws, asserted to be an InvalidArgumentError. */
function invalidArgument (fn: () => unknown): InvalidArgumentError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError)
    return err as InvalidArgumentError
  }
  throw new Error('expected InvalidArgumentError, nothing was thrown')
}

describe('parseFlags', () => {
  it.each<[string, string[], Record<string, string>]>([
    ['defaults fill absent flags', ['--data-dir', '/d'], { 'data-dir': '/d', grpc: '127.0.0.1:7000', join: '' }],
    ['a given flag overrides its default', ['--data-dir', '/d', '--grpc', '0.0.0.0:9'], { 'data-dir': '/d', grpc: '0.0.0.0:9', join: '' }],
    ['--x=y form', ['--data-dir=/d', '--join=a:1,b:2'], { 'data-dir': '/d', grpc: '127.0.0.1:7000', join: 'a:1,b:2' }],
    ['--x= gives an empty value', ['--data-dir=/d', '--join='], { 'data-dir': '/d', grpc: '127.0.0.1:7000', join: '' }],
    ['a value may contain =', ['--data-dir', 'a=b'], { 'data-dir': 'a=b', grpc: '127.0.0.1:7000', join: '' }],
    ['--x=y value is taken whole', ['--data-dir=--weird'], { 'data-dir': '--weird', grpc: '127.0.0.1:7000', join: '' }],
    ['an empty string value', ['--data-dir', '/d', '--join', ''], { 'data-dir': '/d', grpc: '127.0.0.1:7000', join: '' }],
    ['the last occurrence wins', ['--data-dir', '/a', '--data-dir', '/b'], { 'data-dir': '/b', grpc: '127.0.0.1:7000', join: '' }],
    ['a list given more than once adds up (the first was dropped)', ['--data-dir', '/d', '--join', 'a:1', '--join=b:2,c:3', '--join', ''], { 'data-dir': '/d', grpc: '127.0.0.1:7000', join: 'a:1,b:2,c:3' }],
    ['order does not matter', ['--grpc', 'h:1', '--data-dir', '/d'], { 'data-dir': '/d', grpc: 'h:1', join: '' }]
  ])('%s', (_what, argv, expected) => {
    expect(parseFlags(argv, SPECS)).toEqual(expected)
  })

  it.each<[string, string[], string, RegExp]>([
    ['a required flag is missing', [], '--data-dir', /is required/],
    ['an unknown flag', ['--data-dir', '/d', '--grcp', 'h:1'], '--grcp', /unknown flag/],
    ['an unknown flag in --x=y form', ['--nope=1', '--data-dir', '/d'], '--nope', /unknown flag/],
    ['a flag at the end without value', ['--data-dir'], '--data-dir', /needs a value/],
    ['a flag followed by another flag', ['--grpc', '--data-dir', '/d'], '--grpc', /needs a value/],
    ['a positional argument', ['/d'], '/d', /unexpected argument/],
    ['a single-dash flag', ['-data-dir', '/d'], '-data-dir', /unexpected argument/]
  ])('rejects %s', (_what, argv, field, message) => {
    const err = invalidArgument(() => parseFlags(argv, SPECS))
    expect(err.field).toBe(field)
    expect(err.message).toMatch(message)
  })
})

describe('flagsHelp', () => {
  it('lists every flag and shows non-empty defaults only', () => {
    const lines = flagsHelp(SPECS).split('\n')
    expect(lines).toHaveLength(SPECS.length)
    expect(lines[0]).toMatch(/--data-dir\s+required, no default$/)
    expect(lines[1]).toMatch(/--grpc\s+has a default \(default 127\.0\.0\.1:7000\)$/)
    expect(lines[2]).toMatch(/--join\s+empty default, a list$/)
  })
})

describe('parseHostPort', () => {
  it.each<[string, string, number]>([
    ['127.0.0.1:7000', '127.0.0.1', 7000],
    ['0.0.0.0:65535', '0.0.0.0', 65535],
    ['localhost:1', 'localhost', 1],
    ['n1:7001', 'n1', 7001],
    ['my-host.example.com:443', 'my-host.example.com', 443],
    ['[::1]:7000', '::1', 7000],
    ['[::]:0', '::', 0],
    ['[fe80::1%eth0]:7000', 'fe80::1%eth0', 7000]
  ])('parses %s', (value, host, port) => {
    expect(parseHostPort(value, '--grpc')).toEqual({ host, port })
  })

  it.each<[string, RegExp]>([
    ['', /expected host:port/],
    ['7000', /expected host:port/],
    ['localhost', /expected host:port/],
    ['localhost:', /expected host:port/],
    [':7000', /expected host:port/],
    ['host:abc', /expected host:port/],
    ['host:-1', /expected host:port/],
    ['host:123456', /expected host:port/],
    ['host:70000', /above 65535/],
    ['a:b:7000', /expected host:port/],
    ['::1:7000', /expected host:port/],
    ['[::1]7000', /expected host:port/],
    ['[::1]:', /expected host:port/],
    ['host:7000 ', /expected host:port/]
  ])('rejects %j', (value, message) => {
    const err = invalidArgument(() => parseHostPort(value, '--gossip'))
    expect(err.field).toBe('--gossip')
    expect(err.message).toMatch(message)
  })
})
