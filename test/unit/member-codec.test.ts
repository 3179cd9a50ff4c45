import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, it, expect } from 'vitest'
import { isPeerId } from '../../node/membership/membership.js'
import { ProtocolError } from '../../node/errors.js'
import { encodeMembers, parseMembers } from '../../node/membership/member-codec.js'
import type { Member } from '../../node/membership/member-table.js'

const m: Member = { id: 'peer-1', name: 'one', grpcAddress: 'h:1', gossipAddress: 'h:2', state: 'SUSPECT', incarnation: 4 }

const wire = (): any => JSON.parse(JSON.stringify(encodeMembers({ cluster: 'c', members: [m] })))

describe('member codec', () => {
  it('round-trips through JSON and drops unknown fields', () => {
    const w = wire()
    w.members[0].extra = true
    expect(parseMembers(w)).toEqual({ cluster: 'c', members: [m] })
  })

  it.each<[string, (w: any) => unknown]>([
    ['not an object', () => 'x'],
    ['null', () => null],
    ['wrong version', w => ({ ...w, v: 2 })],
    ['cluster not a string', w => ({ ...w, cluster: 1 })],
    ['members not a list', w => ({ ...w, members: {} })],
    ['member not an object', w => { w.members[0] = 3; return w }],
    ['empty id', w => { w.members[0].id = ''; return w }],
    ['missing name', w => { delete w.members[0].name; return w }],
    ['address too long', w => { w.members[0].grpcAddress = 'a'.repeat(513); return w }],
    ['unknown state', w => { w.members[0].state = 'ZOMBIE'; return w }],
    ['negative incarnation', w => { w.members[0].incarnation = -1; return w }],
    ['fractional incarnation', w => { w.members[0].incarnation = 1.5; return w }],
    ['too many members', w => ({ ...w, members: Array.from({ length: 10_001 }, () => m) })]
  ])('rejects %s', (_n, mutate) => {
    expect(() => parseMembers(mutate(wire()))).toThrow(ProtocolError)
  })
})

describe('isPeerId (member ids on the wire)', () => {
  it('takes a peer id in its canonical spelling only', async () => {
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    expect(isPeerId(id.toString())).toBe(true)
    // the same key as a CID: another string for the same peer, so a second table entry
    expect(isPeerId(id.toCID().toString())).toBe(false)
    expect(isPeerId('m1')).toBe(false)
    expect(isPeerId('')).toBe(false)
  })
})
