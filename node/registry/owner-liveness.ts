import type { OwnerLiveness } from './types.js'

/** What membership says of a member, as far as its records are concerned. */
export interface MemberView {
  readonly state: 'ALIVE' | 'SUSPECT' | 'DEAD' | 'LEFT'
  readonly incarnation: number
}

/** What a member's change means for the records it owns here. */
export interface OwnerStep {
  /** the owner's liveness to set at once; absent: leave it as it is */
  readonly set?: OwnerLiveness
  /**
   * Pull from the member: `now` (after `set`), `if-idle` (unless a pull from
   * anyone runs), or `then-alive` (mark it alive only once the pull settled).
   */
  readonly pull?: 'now' | 'if-idle' | 'then-alive'
}

/**
 * Folds a member's change into its records' liveness (`current`, this
 * node's view of the owner; undefined when never heard of).
 * - DEAD shows its records CRITICAL, LEFT drops them; a reaped owner
 *   ('gone') stays gone on a later DEAD (a higher incarnation of the same
 *   verdict): only ALIVE brings it back, else a peer that has not reaped it
 *   yet hands the stale sub-map back.
 * - Up again while its records show DEAD here (back from DEAD, through
 *   SUSPECT or a refutation on the way), they stay CRITICAL until a pull
 *   from it that started after the change has settled: a restarted owner
 *   drops what expired while it was down, and marking it alive first served
 *   those records again until the new epoch arrived.
 * - Back from LEFT or reaped (nothing left to show), or with a higher
 *   incarnation: alive at once, and a pull for what we dropped or lack.
 * - New to us: one pull at a time is enough (a joining node meeting five
 *   members at once would otherwise pull the whole registry five times);
 *   probes' vector hashes catch the rest.
 */
export function ownerStep (member: MemberView, previous: MemberView | undefined, current: OwnerLiveness | undefined): OwnerStep {
  if (member.state === 'DEAD') return current === 'gone' ? {} : { set: 'dead' }
  if (member.state === 'LEFT') return { set: 'gone' }
  // whatever came between (SUSPECT, a refutation): records shown DEAD here wait for the pull
  if (current === 'dead') return { pull: 'then-alive' }
  if (previous == null) return { set: 'alive', pull: 'if-idle' }
  if (previous.state === 'DEAD' || previous.state === 'LEFT' || previous.incarnation < member.incarnation) return { set: 'alive', pull: 'now' }
  return { set: 'alive' }
}
