/** A member's state; the order is the precedence at equal incarnation. */
export type MemberState = 'ALIVE' | 'SUSPECT' | 'DEAD' | 'LEFT'

const PRECEDENCE: Record<MemberState, number> = { ALIVE: 0, SUSPECT: 1, DEAD: 2, LEFT: 3 }

/** What every node knows of one member. */
export interface Member {
  readonly id: string
  readonly name: string
  /** host:port of its gRPC API */
  readonly grpcAddress: string
  /** host:port of its libp2p listener */
  readonly gossipAddress: string
  readonly state: MemberState
  readonly incarnation: number
}

/** A change of one member's state, for listeners. */
export interface MemberChange {
  readonly member: Member
  readonly previous: Member | undefined
}

/**
 * Whether `incoming` overrides `known` (memberlist's rules): a higher
 * incarnation always does; at equal incarnation only a stronger state
 * (ALIVE < SUSPECT < DEAD < LEFT) does.
 */
export function overrides (incoming: Member, known: Member | undefined): boolean {
  if (known == null) return true
  if (incoming.incarnation !== known.incarnation) return incoming.incarnation > known.incarnation
  return PRECEDENCE[incoming.state] > PRECEDENCE[known.state]
}

/**
 * The member table: every member this node knows, this node included,
 * merged by incarnation and state precedence. Listeners hear every change.
 */
export class MemberTable {
  private readonly members = new Map<string, Member>()
  private readonly listeners = new Set<(c: MemberChange) => void>()
  /** rises on every change; caches compare it */
  version = 0
  /** when each member entered its current state (local clock) */
  private readonly since = new Map<string, number>()

  constructor (private readonly now: () => number) {}

  /** Merges an update; returns true when it changed the table. */
  merge (incoming: Member): boolean {
    const known = this.members.get(incoming.id)
    if (!overrides(incoming, known)) return false
    this.set(incoming, known)
    return true
  }

  /** Sets a member regardless of precedence (this node's own entry, local verdicts). */
  set (member: Member, previous = this.members.get(member.id)): void {
    this.members.set(member.id, member)
    if (previous?.state !== member.state) this.since.set(member.id, this.now())
    if (previous != null && previous.state === member.state && previous.incarnation === member.incarnation && previous.name === member.name &&
      previous.grpcAddress === member.grpcAddress && previous.gossipAddress === member.gossipAddress) return
    this.version++
    for (const l of this.listeners) l({ member, previous })
  }

  /** One member, or undefined. */
  get (id: string): Member | undefined {
    return this.members.get(id)
  }

  /** When the member entered its current state, on the local clock. */
  stateSince (id: string): number {
    return this.since.get(id) ?? 0
  }

  /** How long the member has been in its current state, on the table's own clock. */
  timeInState (id: string): number {
    return this.now() - this.stateSince(id)
  }

  /** How many members the table holds, in every state. */
  get size (): number {
    return this.members.size
  }

  /** Every member. */
  all (): Member[] {
    return [...this.members.values()]
  }

  /** Forgets a member (a DEAD one kept long enough). */
  remove (id: string): void {
    this.version++
    this.members.delete(id)
    this.since.delete(id)
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe (listener: (c: MemberChange) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }
}
