/**
 * Decides which members are DEAD. Membership wires one to the wire and the
 * member table; `Swim` (SWIM with Lifeguard) is the implementation.
 */
export interface FailureDetector {
  start: () => void
  stop: () => void
  /** a connection to the member closed: probe it now rather than in its turn */
  connectionClosed: (memberId: string) => void
}
