import { describe, it, expect } from 'vitest'
import { ProtocolError } from '../../node/errors.js'
import type { Member } from '../../node/membership/member-table.js'
import { parseSwimAnswer, parseSwimMessage, type SwimAnswer, type SwimMessage } from '../../node/membership/swim-codec.js'

const alive: Member = { id: 'peer-1', name: 'one', grpcAddress: 'h:1', gossipAddress: 'h:2', state: 'ALIVE', incarnation: 3 }
const suspect: Member = { id: 'peer-2', name: 'two', grpcAddress: 'h:3', gossipAddress: 'h:4', state: 'SUSPECT', incarnation: 7 }

const carried = {
  updates: [{ member: alive }, { member: suspect, from: 'peer-9' }],
  mh: 'abc123',
  x: { vv: 'deadbeef', n: 2 }
}

/** As it crosses the wire: JSON both ways. */
const wire = (v: unknown): any => JSON.parse(JSON.stringify(v))

describe('swim codec: round trips', () => {
  it.each<[string, SwimMessage]>([
    ['ping', { t: 'ping', ...carried }],
    ['ping without updates', { t: 'ping', updates: [], mh: '', x: {} }],
    ['ping-req', { t: 'ping-req', target: suspect, ...carried }],
    ['push-pull', { t: 'push-pull', members: [alive, suspect] }],
    ['empty push-pull', { t: 'push-pull', members: [] }]
  ])('request %s', (_n, msg) => {
    expect(parseSwimMessage(wire(msg))).toEqual(msg)
  })

  it.each<[string, SwimAnswer]>([
    ['ack', { t: 'ack', ...carried }],
    ['nack refused', { t: 'nack', refused: true, ...carried }],
    ['nack not refused', { t: 'nack', refused: false, ...carried }],
    ['push-pull', { t: 'push-pull', members: [alive, suspect] }]
  ])('answer %s', (_n, msg) => {
    expect(parseSwimAnswer(wire(msg))).toEqual(msg)
  })

  it('defaults a missing x to {} and drops unknown fields', () => {
    const w = wire({ t: 'ping', updates: [{ member: { ...alive, extra: 1 }, junk: true }], mh: 'h', other: 5 })
    expect(parseSwimMessage(w)).toEqual({ t: 'ping', updates: [{ member: alive }], mh: 'h', x: {} })
  })

  it('treats a null from as absent', () => {
    const got = parseSwimAnswer(wire({ t: 'ack', updates: [{ member: alive, from: null }], mh: 'h' }))
    expect(got).toEqual({ t: 'ack', updates: [{ member: alive }], mh: 'h', x: {} })
    expect(got.t === 'ack' && Object.hasOwn(got.updates[0], 'from')).toBe(false)
  })

  it('accepts lists at their limits', () => {
    const updates = Array.from({ length: 1024 }, () => ({ member: alive }))
    expect(parseSwimMessage({ t: 'ping', updates, mh: 'h' })).toMatchObject({ t: 'ping', updates: { length: 1024 } })
    const members = Array.from({ length: 10_000 }, () => alive)
    expect(parseSwimAnswer({ t: 'push-pull', members })).toMatchObject({ t: 'push-pull', members: { length: 10_000 } })
  })
})

/** The ProtocolError's message, which starts with the bad field's path. */
function failure (parse: (raw: unknown) => unknown, raw: unknown): string {
  try {
    parse(raw)
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as Error).name).toBe('ProtocolError')
    return (err as Error).message
  }
  throw new Error('parsed without error')
}

const ping = (): any => wire({ t: 'ping', ...carried })
const pingReq = (): any => wire({ t: 'ping-req', target: alive, ...carried })
const ack = (): any => wire({ t: 'ack', ...carried })
const nack = (): any => wire({ t: 'nack', refused: true, ...carried })
const pushPull = (): any => wire({ t: 'push-pull', members: [alive, suspect] })

describe('swim codec: garbage', () => {
  it.each<[string, () => unknown, string]>([
    ['a string', () => 'ping', 'swim'],
    ['null', () => null, 'swim'],
    ['an array', () => [ping()], 'swim'],
    ['wrong t', () => ({ ...ping(), t: 'pong' }), 'swim.t'],
    ['an answer kind', () => ack(), 'swim.t'],
    ['missing t', () => { const w = ping(); delete w.t; return w }, 'swim.t'],
    ['missing mh', () => { const w = ping(); delete w.mh; return w }, 'swim.mh'],
    ['mh not a string', () => ({ ...ping(), mh: 5 }), 'swim.mh'],
    ['mh too long', () => ({ ...ping(), mh: 'f'.repeat(65) }), 'swim.mh'],
    ['x not an object', () => ({ ...ping(), x: 'vv' }), 'swim.x'],
    ['x a list', () => ({ ...ping(), x: [1] }), 'swim.x'],
    ['missing updates', () => { const w = ping(); delete w.updates; return w }, 'swim.updates'],
    ['updates not a list', () => ({ ...ping(), updates: { 0: { member: alive } } }), 'swim.updates'],
    ['too many updates', () => ({ ...ping(), updates: Array.from({ length: 1025 }, () => ({ member: alive })) }), 'swim.updates'],
    ['an update not an object', () => ({ ...ping(), updates: [{ member: alive }, 7] }), 'swim.updates[1]'],
    ['an update without member', () => ({ ...ping(), updates: [{ from: 'x' }] }), 'swim.updates[0].member'],
    ['a bad member state', () => { const w = ping(); w.updates[1].member.state = 'ZOMBIE'; return w }, 'swim.updates[1].member.state'],
    ['a bad member incarnation', () => { const w = ping(); w.updates[0].member.incarnation = -1; return w }, 'swim.updates[0].member.incarnation'],
    ['a member with empty id', () => { const w = ping(); w.updates[0].member.id = ''; return w }, 'swim.updates[0].member.id'],
    ['from not a string', () => { const w = ping(); w.updates[1].from = 42; return w }, 'swim.updates[1].from'],
    ['from too long', () => { const w = ping(); w.updates[1].from = 'p'.repeat(257); return w }, 'swim.updates[1].from'],
    ['ping-req without target', () => { const w = pingReq(); delete w.target; return w }, 'swim.target'],
    ['ping-req with a bad target', () => { const w = pingReq(); w.target.gossipAddress = 9; return w }, 'swim.target.gossipAddress'],
    ['ping-req with bad updates', () => ({ ...pingReq(), updates: 'none' }), 'swim.updates'],
    ['push-pull without members', () => ({ t: 'push-pull' }), 'swim.members'],
    ['push-pull members not a list', () => ({ t: 'push-pull', members: alive }), 'swim.members'],
    ['push-pull with a bad member', () => { const w = pushPull(); w.members[1].name = null; return w }, 'swim.members[1].name'],
    ['push-pull with too many members', () => ({ t: 'push-pull', members: Array.from({ length: 10_001 }, () => alive) }), 'swim.members']
  ])('request: %s → names %s', (_n, raw, field) => {
    expect(failure(parseSwimMessage, raw())).toMatch(new RegExp(`^${escape(field)}: `))
  })

  it.each<[string, () => unknown, string]>([
    ['null', () => null, 'swim'],
    ['wrong t', () => ({ ...ack(), t: 'nak' }), 'swim.t'],
    ['a request kind', () => ping(), 'swim.t'],
    ['refused not boolean', () => ({ ...nack(), refused: 'true' }), 'swim.refused'],
    ['refused missing', () => { const w = nack(); delete w.refused; return w }, 'swim.refused'],
    ['refused a number', () => ({ ...nack(), refused: 1 }), 'swim.refused'],
    ['nack without mh', () => { const w = nack(); delete w.mh; return w }, 'swim.mh'],
    ['ack without mh', () => { const w = ack(); delete w.mh; return w }, 'swim.mh'],
    ['ack updates not a list', () => ({ ...ack(), updates: null }), 'swim.updates'],
    ['ack with a bad member', () => { const w = ack(); w.updates[0].member = 'peer-1'; return w }, 'swim.updates[0].member'],
    ['too many updates', () => ({ ...nack(), updates: Array.from({ length: 1025 }, () => ({ member: alive })) }), 'swim.updates'],
    ['push-pull with a bad member', () => { const w = pushPull(); w.members[0].state = 'alive'; return w }, 'swim.members[0].state'],
    ['push-pull with too many members', () => ({ t: 'push-pull', members: Array.from({ length: 10_001 }, () => alive) }), 'swim.members']
  ])('answer: %s → names %s', (_n, raw, field) => {
    expect(failure(parseSwimAnswer, raw())).toMatch(new RegExp(`^${escape(field)}: `))
  })
})

function escape (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
