import { describe, it, expect } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import * as lp from 'it-length-prefixed'
import { Replicator } from '../../node/gossip/replicator.js'
import { serve } from '../../node/gossip/stream-rpc.js'
import { FrameAssembler } from '../../node/gossip/sync-frames.js'
import { LocalOwner } from '../../node/registry/local-owner.js'
import { Registry } from '../../node/registry/registry.js'
import { silentLogger } from './registry-fixtures.js'

// What a peer's sync answers and requests may do to a node (review of the wire path).

const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const SELF = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'

/** A host whose every sync peer answers `frames` on the framed protocol. */
function answering (frames: unknown[]): any {
  return {
    services: { pubsub: {} },
    dialProtocol: async () => ({
      protocol: '/grapevine/sync/2.0.0',
      sink: async (src: AsyncIterable<unknown>) => { for await (const _ of src) { /* the request */ } },
      source: (async function * () { yield * lp.encode(frames.map(f => Buffer.from(JSON.stringify(f)))) })(),
      abort: () => {}
    })
  }
}

describe('a sync answer', () => {
  it('about this node\'s own records is ignored: they are ours alone', async () => {
    const reg = new Registry({ now: () => 10_000 })
    const owner = new LocalOwner({ registry: reg, logger: silentLogger, now: () => 10_000, publish: () => {}, changed: () => {} }, { nodeId: SELF, epoch: 3, sweepIntervalMs: 1000 })
    owner.register({ service: 'web', instanceId: 'mine', address: '10.0.0.1', port: 80, protocol: '', version: '', tags: [], metadata: {}, weight: 100, zone: '' }, 30_000)
    const frames = [
      { snapshot: { owner: SELF, epoch: 3, seq: 50, floor: { epoch: 3, seq: 50 }, entries: [] }, more: false },
      // the rest of the answer still applies
      { snapshot: { owner: PEER, epoch: 1, seq: 1, floor: { epoch: 1, seq: 0 }, entries: [[1, 1, ['web', 'theirs', '10.0.0.2', 80, '', '', [], {}, 100, '', 'PASSING', '', 1, 1, 30000]]] }, more: false }
    ]
    const r = new Replicator({ host: answering(frames), registry: reg, logger: silentLogger, peers: () => [], members: () => 2 },
      { nodeId: SELF, epoch: 3, cluster: 't', batchMs: 1, batchMaxOps: 10, antiEntropyIntervalMs: 1000 })
    await r.syncWith(peerIdFromString(PEER))
    expect(reg.owners.get(SELF)?.seq).toBe(1)
    expect(reg.get('web', 'web/mine')?.ownerNode).toBe(SELF)
    expect(reg.get('web', 'web/theirs')?.ownerNode).toBe(PEER)
  })

  it('of more entries than an answer may hold is refused whole', () => {
    const frames = new FrameAssembler(3)
    frames.take({ delta: { owner: 'A', epoch: 1, since: 0, head: 2, entries: [{ key: 'a/1', stamp: { epoch: 1, seq: 1 }, record: null }, { key: 'a/2', stamp: { epoch: 1, seq: 2 }, record: null }] } })
    expect(() => {
      frames.take({ snapshot: { owner: 'B', epoch: 1, seq: 2, floor: { epoch: 1, seq: 0 }, entries: [{ key: 'b/1', stamp: { epoch: 1, seq: 1 }, record: null }, { key: 'b/2', stamp: { epoch: 1, seq: 2 }, record: null }] }, more: false })
    }).toThrow(/more than 3 entries/)
  })
})

describe('a sync request', () => {
  it('not sent whole in time is cut off', async () => {
    let handler: any
    const host: any = { handle: async (_p: string, h: unknown) => { handler = h } }
    let answered = false
    await serve(host, '/grapevine/sync/1.0.0', 1024 * 1024, silentLogger, () => { answered = true; return {} }, 100)
    const aborted = new Promise<Error>(resolve => {
      handler({
        // 1 KB, then nothing, never closed
        stream: { source: (async function * () { yield new Uint8Array(1024); await new Promise(() => {}) })(), sink: async () => {}, abort: resolve },
        connection: { remotePeer: peerIdFromString(PEER) }
      })
    })
    expect((await aborted).message).toMatch(/not sent whole within 100 ms/)
    expect(answered).toBe(false)
  })
})
