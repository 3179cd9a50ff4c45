import { ProtocolError } from '../errors.js'
import type { Member, MemberState } from './member-table.js'

const STATES: ReadonlySet<string> = new Set(['ALIVE', 'SUSPECT', 'DEAD', 'LEFT'])
const MAX_MEMBERS = 10_000

/** A member list as it travels, in push-pull and on the members topic. */
export interface MembersMessage {
  readonly cluster: string
  readonly members: readonly Member[]
}

/** Encodes a member list (version 1, JSON). */
export function encodeMembers (msg: MembersMessage): unknown {
  return { v: 1, cluster: msg.cluster, members: msg.members }
}

/** Checks a member list from a peer; a ProtocolError names the bad field. */
/**
 * Whether a string is a member id where this runs (a libp2p peer id in
 * production; the simulation names its members m0, m1, ...). Every node takes
 * a member id for a peer id (dials, pulls, owners): one that is not broke
 * them later, far from the message that brought it.
 */
export type MemberIdCheck = (id: string) => boolean

export function parseMembers (raw: unknown, validId?: MemberIdCheck): MembersMessage {
  if (raw == null || typeof raw !== 'object') throw new ProtocolError('members: not an object')
  const o = raw as Record<string, unknown>
  if (o.v !== 1) throw new ProtocolError('members.v: unsupported version')
  if (typeof o.cluster !== 'string') throw new ProtocolError('members.cluster: not a string')
  if (!Array.isArray(o.members) || o.members.length > MAX_MEMBERS) throw new ProtocolError('members.members: not a list')
  return { cluster: o.cluster, members: o.members.map((m, i) => parseMember(m, `members.members[${i}]`, validId)) }
}

/** Checks one member from a peer. */
export function parseMember (raw: unknown, path: string, validId?: MemberIdCheck): Member {
  if (raw == null || typeof raw !== 'object') throw new ProtocolError(`${path}: not an object`)
  const m = raw as Record<string, unknown>
  for (const f of ['id', 'name', 'grpcAddress', 'gossipAddress', 'state'] as const) {
    if (typeof m[f] !== 'string' || (m[f] as string).length > 512) throw new ProtocolError(`${path}.${f}: not a string`)
  }
  if ((m.id as string).length === 0) throw new ProtocolError(`${path}.id: empty`)
  if (validId != null && !validId(m.id as string)) throw new ProtocolError(`${path}.id: not a member id (a peer id)`)
  if (!STATES.has(m.state as string)) throw new ProtocolError(`${path}.state: unknown state`)
  if (typeof m.incarnation !== 'number' || !Number.isSafeInteger(m.incarnation) || m.incarnation < 0) {
    throw new ProtocolError(`${path}.incarnation: not a whole number >= 0`)
  }
  return {
    id: m.id as string,
    name: m.name as string,
    grpcAddress: m.grpcAddress as string,
    gossipAddress: m.gossipAddress as string,
    state: m.state as MemberState,
    incarnation: m.incarnation
  }
}
