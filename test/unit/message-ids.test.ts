import { describe, expect, it } from 'vitest'
import { fastMsgId, msgIdString } from '../../node/gossip/message-ids.js'

describe('gossipsub message ids', () => {
  it('msgIdString reads only the id, also when it is a view into a larger buffer', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9, 9])
    const id = backing.subarray(2, 5)
    expect(msgIdString(id)).toBe(Buffer.from([1, 2, 3]).toString('base64'))
    expect(msgIdString(id)).toBe(msgIdString(new Uint8Array([1, 2, 3])))
  })

  it('msgIdString tells different ids apart, also of different lengths', () => {
    const ids = [[], [0], [0, 0], [1], [0, 1], [1, 0], [255, 255, 255]].map(b => msgIdString(new Uint8Array(b)))
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('fastMsgId keys a message by its author and sequence number', () => {
    const from = new Uint8Array([0, 36, 8, 1])
    const a = fastMsgId({ from, seqno: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]) })
    expect(fastMsgId({ from: from.slice(), seqno: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]) })).toBe(a)
    expect(fastMsgId({ from, seqno: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2]) })).not.toBe(a)
    expect(fastMsgId({ from: new Uint8Array([0, 36, 8, 2]), seqno: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]) })).not.toBe(a)
    // views into one larger buffer, as a decoded RPC hands them over
    const rpc = new Uint8Array([7, 0, 36, 8, 1, 0, 0, 0, 0, 0, 0, 0, 1, 7])
    expect(fastMsgId({ from: rpc.subarray(1, 5), seqno: rpc.subarray(5, 13) })).toBe(a)
    expect(fastMsgId({})).toBe(':')
  })
})
