import { ProtocolError } from '../errors.js'
import type { Update } from './broadcast-queue.js'
import { parseMember } from './member-codec.js'
import type { MemberIdCheck } from './member-codec.js'
import type { Member } from './member-table.js'

/** Probe-path fields every ping, ping-req, ack and nack carries. */
interface Carried {
  /** membership updates riding along (dissemination) */
  readonly updates: readonly Update[]
  /** the sender's member-table hash */
  readonly mh: string
  /** opaque piggyback of other components (the registry's vector hash) */
  readonly x: Record<string, unknown>
}

/** A request between members (version 1, JSON on /grapevine/swim/1.0.0). */
export type SwimMessage =
  | ({ readonly t: 'ping' } & Carried)
  | ({ readonly t: 'ping-req', readonly target: Member } & Carried)
  | { readonly t: 'push-pull', readonly members: readonly Member[] }

/** An answer between members. */
export type SwimAnswer =
  | ({ readonly t: 'ack' } & Carried)
  | ({ readonly t: 'nack', readonly refused: boolean } & Carried)
  | { readonly t: 'push-pull', readonly members: readonly Member[] }

const MAX_UPDATES = 1024
// as the member table's bound (swim.ts MAX_TABLE_MEMBERS): a longer list is not from a member
const MAX_MEMBERS = 10_000

/** Checks a request from a peer field by field; a ProtocolError names the bad field. */
export function parseSwimMessage (raw: unknown, validId?: MemberIdCheck): SwimMessage {
  const o = obj(raw, 'swim')
  if (o.t === 'push-pull') return { t: o.t, members: members(o, validId) }
  if (o.t === 'ping') return { t: o.t, ...parseCarried(o, validId) }
  if (o.t === 'ping-req') return { t: o.t, target: parseMember(o.target, 'swim.target', validId), ...parseCarried(o, validId) }
  throw new ProtocolError(`swim.t: unexpected request "${String(o.t)}"`)
}

/** Checks an answer from a peer field by field. */
export function parseSwimAnswer (raw: unknown, validId?: MemberIdCheck): SwimAnswer {
  const o = obj(raw, 'swim')
  if (o.t === 'push-pull') return { t: o.t, members: members(o, validId) }
  if (o.t === 'ack') return { t: o.t, ...parseCarried(o, validId) }
  if (o.t === 'nack') {
    if (typeof o.refused !== 'boolean') throw new ProtocolError('swim.refused: not a boolean')
    return { t: o.t, refused: o.refused, ...parseCarried(o, validId) }
  }
  throw new ProtocolError(`swim.t: unexpected answer "${String(o.t)}"`)
}

function members (o: Record<string, unknown>, validId?: MemberIdCheck): Member[] {
  return list(o.members, 'swim.members', MAX_MEMBERS).map((m, i) => parseMember(m, `swim.members[${i}]`, validId))
}

function parseCarried (o: Record<string, unknown>, validId?: MemberIdCheck): Carried {
  if (typeof o.mh !== 'string' || o.mh.length > 64) throw new ProtocolError('swim.mh: not a short string')
  const x = o.x == null ? {} : obj(o.x, 'swim.x')
  const updates = list(o.updates, 'swim.updates', MAX_UPDATES).map((u, i) => {
    const v = obj(u, `swim.updates[${i}]`)
    if (v.from != null && (typeof v.from !== 'string' || v.from.length > 256)) throw new ProtocolError(`swim.updates[${i}].from: not a string`)
    return { member: parseMember(v.member, `swim.updates[${i}].member`, validId), ...(typeof v.from === 'string' ? { from: v.from } : {}) }
  })
  return { updates, mh: o.mh, x }
}

function obj (v: unknown, path: string): Record<string, unknown> {
  if (v == null || typeof v !== 'object' || Array.isArray(v)) throw new ProtocolError(`${path}: not an object`)
  return v as Record<string, unknown>
}

function list (v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v) || v.length > max) throw new ProtocolError(`${path}: not a list of at most ${max}`)
  return v
}
