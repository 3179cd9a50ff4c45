import { describe, it, expect } from 'vitest'
import { isRefused } from '../../node/membership/refused.js'

const refusedCode = (): Error => Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED' })

/** `inner` wrapped in `depth` causes. */
function nest (inner: unknown, depth: number): unknown {
  let e = inner
  for (let i = 0; i < depth; i++) e = new Error(`wrap ${i}`, { cause: e })
  return e
}

describe('isRefused', () => {
  it.each<[string, unknown]>([
    ['code', refusedCode()],
    ['code on a plain object', { code: 'ECONNREFUSED' }],
    ['message', new Error('connect ECONNREFUSED 127.0.0.1:7001')],
    ['message on a plain object', { message: 'dial: ECONNREFUSED' }],
    ['nested cause', new Error('dial failed', { cause: refusedCode() })],
    ['cause of a cause', new Error('a', { cause: new Error('b', { cause: new Error('connect ECONNREFUSED ::1:1') }) })],
    ['AggregateError errors', new AggregateError([new Error('timeout'), refusedCode()], 'all dials failed')],
    ['plain errors list', { errors: [{ code: 'ETIMEDOUT' }, { message: 'ECONNREFUSED' }] }],
    ['AggregateError inside a cause', new Error('dial', { cause: new AggregateError([new Error('x'), new Error('y', { cause: refusedCode() })]) })],
    ['six causes deep', nest(refusedCode(), 6)]
  ])('finds ECONNREFUSED: %s', (_n, err) => {
    expect(isRefused(err)).toBe(true)
  })

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'ECONNREFUSED'],
    ['a number', 111],
    ['an empty object', {}],
    ['another code', Object.assign(new Error('connect failed'), { code: 'ETIMEDOUT' })],
    ['another message', new Error('connect ETIMEDOUT 10.0.0.1:7001')],
    ['a lowercase message', new Error('econnrefused')],
    ['a code that is not a string', { code: 111 }],
    ['a message that is not a string', { message: ['ECONNREFUSED'] }],
    ['a cause with another error', new Error('dial', { cause: new Error('ECONNRESET') })],
    ['AggregateError without it', new AggregateError([new Error('a'), new Error('b')], 'all failed')],
    ['errors not a list', { errors: { 0: refusedCode() } }],
    ['seven causes deep (past the depth limit)', nest(refusedCode(), 7)],
    ['seven levels through errors', nest(new AggregateError([refusedCode()]), 6)]
  ])('does not find it: %s', (_n, err) => {
    expect(isRefused(err)).toBe(false)
  })

  it('stops on a cause cycle', () => {
    const a = new Error('a') as Error & { cause?: unknown }
    const b = new Error('b', { cause: a })
    a.cause = b
    expect(isRefused(a)).toBe(false)
  })

  it('stops on an errors cycle', () => {
    const agg = new AggregateError([], 'loop') as AggregateError & { errors: unknown[] }
    agg.errors.push(agg, agg)
    expect(isRefused(agg)).toBe(false)
  })
})
