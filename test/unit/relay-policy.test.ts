import { TopicValidatorResult } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { FULL_MESH_MAX_MEMBERS, relayVerdict } from '../../node/gossip/relay-policy.js'

describe('relayVerdict', () => {
  const { Accept, Ignore, Reject } = TopicValidatorResult

  it('does not relay a batch that came straight from its owner in a small cluster', () => {
    expect(relayVerdict({ verdict: Accept, direct: true, members: 5 })).toBe(Ignore)
    expect(relayVerdict({ verdict: Accept, direct: true, members: FULL_MESH_MAX_MEMBERS })).toBe(Ignore)
  })

  it('relays a batch that reached us through a relay', () => {
    expect(relayVerdict({ verdict: Accept, direct: false, members: 5 })).toBe(Accept)
  })

  it('relays direct batches once the cluster is too big to assume every member connected to every owner', () => {
    expect(relayVerdict({ verdict: Accept, direct: true, members: FULL_MESH_MAX_MEMBERS + 1 })).toBe(Accept)
  })

  it('never relays what the replicator rejected or ignored', () => {
    for (const direct of [true, false]) {
      for (const members of [3, 100]) {
        expect(relayVerdict({ verdict: Reject, direct, members })).toBe(Reject)
        expect(relayVerdict({ verdict: Ignore, direct, members })).toBe(Ignore)
      }
    }
  })
})
