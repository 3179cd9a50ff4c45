import { TopicValidatorResult } from '@libp2p/interface'

/**
 * Up to this many members a cluster is treated as fully connected: SWIM
 * probes every member once per round (n − 1 periods, 12 s at 16 members on
 * a LAN) and keeps the connection, and the owner flood-publishes to every
 * member it is connected to. Beyond it a member may not yet hold a
 * connection to every owner, and gossipsub's mesh relay covers it.
 */
export const FULL_MESH_MAX_MEMBERS = 16

/** What the replicator made of one gossip batch, and how it reached us. */
export interface RelayInput {
  /** Accept: applied or already known; Ignore: not ours to judge; Reject: malformed or forged */
  readonly verdict: TopicValidatorResult
  /** the batch came straight from its owner (propagation source = signer) */
  readonly direct: boolean
  /** members of the cluster, this node included */
  readonly members: number
}

/**
 * The validation result reported to gossipsub, which decides the relay: only
 * Accept is forwarded to the mesh. In a small cluster a batch that came
 * straight from its owner is not relayed: every other member got it from the
 * owner too, and relays only multiplied copies (at 5 nodes each node got 4
 * copies of every batch and sent 3: most of gossip's CPU and, on 2 cores,
 * most of its latency). A member the owner missed gets the batch from the gap
 * pull on the owner's next batch, or from anti-entropy. A relayed batch is
 * relayed on, as gossipsub would.
 */
export function relayVerdict (input: RelayInput): TopicValidatorResult {
  if (input.verdict !== TopicValidatorResult.Accept) return input.verdict
  if (input.direct && input.members <= FULL_MESH_MAX_MEMBERS) return TopicValidatorResult.Ignore
  return TopicValidatorResult.Accept
}
