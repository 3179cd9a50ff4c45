import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { status } from '@grpc/grpc-js'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, unary } from '../../client/client.js'
import type { GrapevineClients } from '../../client/client.js'
import { waitFor } from '../../cluster/wait.js'
import { leanCallsServed } from '../../node/api/lean-grpc.js'
import { createConfig } from '../../node/config.js'
import { vouchedChecks } from '../../node/gossip/direct-authorship.js'
import { toMultiaddr } from '../../node/gossip/host.js'
import { CHANNEL_PROTOCOL } from '../../node/gossip/peer-channel.js'
import { SYNC_PROTOCOL, SYNC_PROTOCOL_FRAMED } from '../../node/gossip/replicator.js'
import { request, requestFramed, serveFramed } from '../../node/gossip/stream-rpc.js'
import { FrameAssembler, framesOf } from '../../node/gossip/sync-frames.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { parseSyncFrame, parseSyncResponse } from '../../node/gossip/codec.js'
import { MEMBERS_PROTOCOL } from '../../node/membership/membership.js'
import { GrapevineNode } from '../../node/node.js'
import { DEFAULT_CHECK } from '../../node/health/check-spec.js'
import type { CheckResult } from '../../node/health/checkers/checker.js'
import { grpcCheck } from '../../node/health/checkers/grpc.js'
import { WatchRecorder } from '../helpers/watch-recorder.js'

// Three real nodes in this process: real libp2p over TCP on 127.0.0.1, real gRPC.
describe('three nodes in one process', () => {
  let dir: string
  const nodes: GrapevineNode[] = []
  const clients: GrapevineClients[] = []

  async function startNode (name: string, seeds: string[]): Promise<GrapevineNode> {
    const node = new GrapevineNode({
      name,
      dataDir: path.join(dir, name),
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      gossipHost: '127.0.0.1',
      gossipPort: 0,
      seeds,
      cluster: 'component',
      config: createConfig('test'),
      logger: pino({ level: 'silent' })
    })
    await node.start()
    nodes.push(node)
    clients.push(connect(node.grpcAddress))
    return node
  }

  const status_ = async (i: number): Promise<any> => await unary(clients[i].cluster, 'Status', {})
  const discover = async (i: number, service: string, includeUnhealthy = false): Promise<any[]> =>
    (await unary<any>(clients[i].registry, 'Discover', { service, include_unhealthy: includeUnhealthy })).instances

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'grapevine-component-'))
    const first = await startNode('a', [])
    await startNode('b', [first.gossipAddress])
    await startNode('c', [first.gossipAddress])
    await waitFor(async () => (await Promise.all([0, 1, 2].map(status_))).every(s => s.members_alive === 3), { timeoutMs: 15_000, message: 'all three ALIVE' })
  })

  afterAll(async () => {
    for (const c of clients) c.close()
    await Promise.all(nodes.map(async n => await n.stop({ leave: false })))
    await rm(dir, { recursive: true, force: true })
  })

  it('replicates a registration to every node and to a watch on another node', async () => {
    const leanBefore = leanCallsServed()
    const watch = new WatchRecorder(clients[1].registry, { service: 'pay' })
    await waitFor(() => watch.synced, { message: 'watch SYNCED' })
    // a node's Watch takes the lean path (lean-grpc.ts)
    expect(leanCallsServed()).toBe(leanBefore + 1)
    const skipped = vouchedChecks()
    const res = await unary<any>(clients[0].registry, 'Register', { instance: { service: 'pay', instance_id: 'p1', address: '10.0.0.7', port: 8080, tags: ['v2'] } })
    expect(res.instance.owner_node).toBe(nodes[0].id)
    expect(res.instance.status).toBe('PASSING')
    // so does Register (server.ts LEAN_UNARY)
    expect(leanCallsServed()).toBe(leanBefore + 2)
    const lean = leanCallsServed()
    const seen = await waitFor(async () => (await discover(2, 'pay')).find(i => i.instance_id === 'p1'), { message: 'p1 on node c' })
    expect(seen).toMatchObject({ address: '10.0.0.7', port: 8080, tags: ['v2'], weight: 100 })
    // and so does its Discover
    expect(leanCallsServed()).toBeGreaterThan(lean)
    await waitFor(() => watch.find('UPSERT', 'pay', 'p1'), { message: 'UPSERT on the watch' })
    // the batch came straight from its owner: the receivers took the connection's word for its author
    expect(vouchedChecks()).toBeGreaterThan(skipped)
    await unary(clients[0].registry, 'Deregister', { service: 'pay', instance_id: 'p1' })
    await waitFor(() => watch.find('DELETE', 'pay', 'p1'), { message: 'DELETE on the watch' })
    expect(await discover(2, 'pay', true)).toEqual([])
    watch.close()
  })

  it('a client that fails over to another node moves its instance there; the old copy goes, and a Deregister removes it everywhere', async () => {
    await unary(clients[0].registry, 'Register', { instance: { service: 'moves', instance_id: 'm1', address: '10.0.0.8', port: 80 } })
    await waitFor(async () => (await discover(1, 'moves')).length === 1, { message: 'm1 on node b' })
    const moved = await unary<any>(clients[1].registry, 'Register', { instance: { service: 'moves', instance_id: 'm1', address: '10.0.0.8', port: 80 } })
    expect(moved.instance.owner_node).toBe(nodes[1].id)
    // node a gives up its copy once it sees b's: its Heartbeat no longer finds it
    await waitFor(async () => await unary(clients[0].registry, 'Heartbeat', { service: 'moves', instance_id: 'm1' }).then(() => false, (e: { code: number }) => e.code === status.NOT_FOUND), { message: 'a gave up m1' })
    for (const i of [0, 1, 2]) await waitFor(async () => (await discover(i, 'moves', true)).map(r => r.owner_node).join() === nodes[1].id, { message: `m1 owned by b on node ${i}` })
    await unary(clients[1].registry, 'Deregister', { service: 'moves', instance_id: 'm1' })
    for (const i of [0, 1, 2]) await waitFor(async () => (await discover(i, 'moves', true)).length === 0, { message: `m1 gone on node ${i}` })
  })

  it('lists services with their counts (ListServices), and answers grpc.health.v1 Check for itself and its services', async () => {
    await unary(clients[0].registry, 'Register', { instance: { service: 'listed', instance_id: 'x1', address: '10.0.0.5', port: 1 } })
    const listed = await waitFor(async () => (await unary<any>(clients[1].registry, 'ListServices', {})).services.find((x: any) => x.name === 'listed'), { message: 'listed on node b' })
    expect(listed).toEqual({ name: 'listed', instances: 1, passing: 1 })
    const at = nodes[1].grpcAddress
    const target = { address: at.slice(0, at.lastIndexOf(':')), port: Number(at.slice(at.lastIndexOf(':') + 1)) }
    const check = async (service: string): Promise<CheckResult> => await grpcCheck(target, { ...DEFAULT_CHECK, kind: 'grpc', grpc: { service }, timeoutMs: 5000 }, new AbortController().signal)
    for (const service of ['', 'grapevine.v1.Registry', 'grapevine.v1.Cluster']) expect(await check(service)).toMatchObject({ ok: true, output: expect.stringContaining('SERVING') })
    expect(await check('no.such.Service')).toMatchObject({ ok: false, output: expect.stringContaining('NOT_FOUND') })
  })

  it('agrees on one digest once all nodes hold the same records', async () => {
    for (let i = 0; i < 20; i++) {
      await unary(clients[i % 3].registry, 'Register', { instance: { service: 'digest', instance_id: `d${i}`, address: 'host.example', port: 1000 + i } })
    }
    const digests = await waitFor(async () => {
      const s = await Promise.all([0, 1, 2].map(status_))
      return s.every(x => x.instances === s[0].instances && x.digest === s[0].digest) && s[0].instances >= 20 ? s : undefined
    }, { message: 'equal digests' })
    expect(digests[0].digest).toMatch(/^[0-9a-f]{32}$/)
    const before = digests[0].digest
    await unary(clients[0].registry, 'Deregister', { service: 'digest', instance_id: 'd0' })
    await waitFor(async () => (await status_(1)).digest !== before, { message: 'digest moves on a change' })
  })

  it('rejects bad input naming the field and changes nothing', async () => {
    const before = await status_(0)
    const err = await unary(clients[0].registry, 'Register', { instance: { service: 'pay', address: '10.0.0.1', port: 70000 } }).catch(e => e)
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(err.details).toContain('instance.port')
    const disc = await unary(clients[0].registry, 'Discover', { service: 'Not A Name' }).catch(e => e)
    expect(disc.code).toBe(status.INVALID_ARGUMENT)
    expect(disc.details).toContain('service')
    // 63 characters and an emoji: a status text clipped inside the pair once took a node down
    const pick = await unary(clients[0].registry, 'Pick', { service: 'pay', strategy: 'x'.repeat(63) + '\u{1F600}' }).catch(e => e)
    expect(pick.code).toBe(status.INVALID_ARGUMENT)
    expect(pick.details).toContain(`unknown strategy "${'x'.repeat(63)}"`)
    const hb = await unary(clients[0].registry, 'Heartbeat', { service: 'pay', instance_id: 'nope' }).catch(e => e)
    expect(hb.code).toBe(status.NOT_FOUND)
    expect((await status_(0)).digest).toBe(before.digest)
  })

  it('survives garbage from a peer on every protocol and on gossip', async () => {
    const [a, b] = nodes
    const before = await status_(1)
    const host = (a as any).parts.host
    const target = toMultiaddr('127.0.0.1', Number(b.gossipAddress.split(':')[1]), b.id)
    for (const protocol of [SYNC_PROTOCOL, SYNC_PROTOCOL_FRAMED, MEMBERS_PROTOCOL, CHANNEL_PROTOCOL]) {
      for (const body of [null, 42, 'x', { vector: 'no' }, { v: 1, cluster: 'component', members: [{ id: 5 }] }]) {
        await expect(request(host, target, protocol, body, { maxBytes: 1 << 20 })).rejects.toThrow()
      }
    }
    await host.services.pubsub.publish('grapevine/component/registry/1', Buffer.from('{"v":1,"owner":"x","epoch":1,"ops":[{"seq":"a"}]}'))
    await host.services.pubsub.publish('grapevine/component/members/1', Buffer.from('not json'))
    // a well-formed batch that claims another owner is refused too: only the owner writes its records
    const record = { service: 'pay', instanceId: 'forged', address: '10.6.6.6', port: 6, protocol: '', version: '', tags: [], metadata: {}, weight: 100, zone: '', status: 'PASSING', ownerNode: 'forged-owner', registeredAtMs: 1, updatedAtMs: 1, ttlMs: 30000 }
    const forged = { v: 1, owner: 'forged-owner', epoch: 1, ops: [{ seq: 1, key: 'pay/forged', record }] }
    await host.services.pubsub.publish('grapevine/component/registry/1', Buffer.from(JSON.stringify(forged)))
    // gossip from one sender arrives in order: once a later op of a's is on b, so was the garbage
    await unary(clients[0].registry, 'Register', { instance: { service: 'sentinel', instance_id: 's1', address: '10.0.0.1', port: 1 } })
    await waitFor(async () => (await discover(1, 'sentinel')).length === 1, { message: 'sentinel on b' })
    const after = await status_(1)
    expect(after.instances).toBe(before.instances + 1)
    expect(await discover(1, 'pay', true)).toEqual([])
    expect(after.members_alive).toBe(3)
    expect(b.registry.owners.has('forged-owner')).toBe(false)
  })

  it('answers a pull in frames, or in one answer to a node that asks only for the older protocol', async () => {
    await unary(clients[0].registry, 'Register', { instance: { service: 'frames', instance_id: 'f1', address: '10.0.2.1', port: 1 } })
    await unary(clients[1].registry, 'Register', { instance: { service: 'frames', instance_id: 'f2', address: '10.0.2.2', port: 2 } })
    const [a, b, c] = nodes
    await waitFor(async () => (await discover(2, 'frames')).length === 2, { message: 'both on c' })
    const host = (a as any).parts.host
    const target = toMultiaddr('127.0.0.1', Number(c.gossipAddress.split(':')[1]), c.id)
    const pull = async (protocols: string[]): Promise<{ protocol: string, owners: Map<string, number> }> => {
      const owners = new Map<string, number>()
      const assembler = new FrameAssembler()
      const protocol = await requestFramed(host, target, protocols, SYNC_PROTOCOL_FRAMED, { vector: [] }, { maxBytes: 1 << 24 }, (raw, taken) => {
        if (taken === SYNC_PROTOCOL_FRAMED) assembler.take(parseSyncFrame(raw))
        else for (const snapshot of parseSyncResponse(raw).snapshots) owners.set(snapshot.owner, snapshot.entries.length)
      })
      for (const p of assembler.end()) if ('snapshot' in p) owners.set(p.snapshot.owner, p.snapshot.entries.length)
      return { protocol, owners }
    }
    const framed = await pull([SYNC_PROTOCOL_FRAMED, SYNC_PROTOCOL])
    const older = await pull([SYNC_PROTOCOL])
    expect(framed.protocol).toBe(SYNC_PROTOCOL_FRAMED)
    expect(older.protocol).toBe(SYNC_PROTOCOL)
    expect(framed.owners.has(a.id) && framed.owners.has(b.id)).toBe(true)
    expect(framed.owners).toEqual(older.owners)
  })

  it('applies nothing of a framed answer that goes bad after a whole owner came (review)', async () => {
    const [a, , c] = nodes
    const cHost = (c as any).parts.host
    const cReplicator = (c as any).parts.replicator
    const record = [...'pay x1 10.0.0.9'.split(' '), 9, '', '', [], {}, 100, '', 'PASSING', '', 1, 1, 30000]
    const good = { snapshot: { owner: 'forged-x', epoch: 1, seq: 1, floor: { epoch: 1, seq: 0 }, entries: [[1, 1, record]] }, more: false }
    const bad = { snapshot: { owner: 'forged-y', epoch: 1, seq: 1, floor: { epoch: 1, seq: 0 }, entries: [[1, 1, ['pay', 'y1']]] }, more: false }
    await cHost.unhandle(SYNC_PROTOCOL_FRAMED)
    try {
      await serveFramed(cHost, SYNC_PROTOCOL_FRAMED, 1 << 20, pino({ level: 'silent' }), () => [good, bad])
      const pulls = (a as any).parts.replicator.pulls
      await (a as any).parts.replicator.syncWith(peerIdFromString(c.id))
      expect((a as any).parts.replicator.pulls).toBe(pulls)
      expect(a.registry.owners.has('forged-x')).toBe(false)
      expect(await discover(0, 'pay', true)).toEqual([])
    } finally {
      await cHost.unhandle(SYNC_PROTOCOL_FRAMED)
      await serveFramed(cHost, SYNC_PROTOCOL_FRAMED, 64 * 1024 * 1024, pino({ level: 'silent' }), (body: unknown, peer: any) => framesOf(cReplicator.answer(body, peer)))
    }
  })

  it('a joining node runs one pull at a time, though every member asks it at once', async () => {
    for (let i = 0; i < 30; i++) {
      await unary(clients[i % 2].registry, 'Register', { instance: { service: 'join', instance_id: `j${i}`, address: '10.0.1.1', port: 2000 + i } })
    }
    const settled = async (n: number): Promise<any[] | undefined> => {
      const s = await Promise.all(Array.from({ length: n }, async (_, i) => await status_(i)))
      return s.every(x => x.digest === s[0].digest) ? s : undefined
    }
    await waitFor(async () => await settled(3), { message: 'three equal digests' })
    // the members hold their answers to the newcomer's pulls until released: its first pull stays in
    // flight while the members, meeting it, pull from it (each of those asks says "I am ahead of you")
    const members = new Set(nodes.map(n => n.id))
    let release = (): void => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    for (const n of nodes) {
      const r = (n as any).parts.replicator
      const answer = r.answer.bind(r)
      r.answer = async function * (body: unknown, peer: { toString: () => string }) {
        if (!members.has(peer.toString())) await gate
        yield * answer(body, peer)
      }
    }
    const before = nodes.map(n => (n as any).parts.replicator.pulls as number)
    const d = await startNode('d', [nodes[0].gossipAddress])
    const replicator = (d as any).parts.replicator
    await waitFor(async () => (await status_(3)).members_alive === 4, { timeoutMs: 10_000, message: 'the newcomer sees all four ALIVE' })
    await waitFor(() => before.every((p, i) => (nodes[i] as any).parts.replicator.pulls > p), { message: 'every member pulled from the newcomer' })
    expect(replicator.inflight.size).toBe(1)
    release()
    await waitFor(async () => await settled(4), { timeoutMs: 15_000, message: 'the newcomer holds what the others hold' })
    clients.pop()?.close()
    await nodes.pop()?.stop({ leave: true })
  })

  it('drops the instances of a node that leaves gracefully at once', async () => {
    await unary(clients[2].registry, 'Register', { instance: { service: 'leaving', instance_id: 'l1', address: '10.0.0.9', port: 9 } })
    await waitFor(async () => (await discover(0, 'leaving')).length === 1, { message: 'l1 on node a' })
    // every status node a shows for l1 until it is gone: a leave drops it, failure detection would show it CRITICAL first
    const seen = new Set<string>()
    const a = nodes[0].registry
    const off = a.subscribe(changes => { for (const c of changes) if (c.key === 'leaving/l1' && c.after != null) seen.add(c.after.status) })
    clients[2].close()
    await nodes[2].stop({ leave: true })
    await waitFor(async () => (await discover(0, 'leaving', true)).length === 0, { message: 'l1 gone from node a' })
    off()
    expect([...seen]).toEqual([])
    const members = await unary<any>(clients[0].cluster, 'Members', {})
    expect(members.members.find((m: any) => m.node_id === nodes[2].id).state).toBe('LEFT')
  })
})
