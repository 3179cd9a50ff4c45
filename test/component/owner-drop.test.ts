import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, unary } from '../../client/client.js'
import type { GrapevineClients } from '../../client/client.js'
import { waitFor } from '../../cluster/wait.js'
import { createConfig } from '../../node/config.js'
import { GrapevineNode } from '../../node/node.js'
import { decodeVector } from '../../node/registry/version-vector.js'
import type { VectorEntry } from '../../node/registry/types.js'
import { registerAt } from '../helpers/register-at.js'

// Real nodes (in process, real gRPC and libp2p): a member that left is
// forgotten by membership after deadMemberKeepMs, and its owner state goes
// with it, out of the version vector (and so out of every resume token and
// sync request). A node restarted without its data dir is a new owner each
// time: kept for good, those piled up to the MAX_OWNERS cap.

const config = createConfig('test', { deadMemberKeepMs: 2000, ownerReapMs: 1000 })
let dir = ''
let a: GrapevineNode
let c: GrapevineClients
const started: GrapevineNode[] = []

function startNode (name: string, seeds: string[]): GrapevineNode {
  const n = new GrapevineNode({ name, dataDir: path.join(dir, name), grpcHost: '127.0.0.1', grpcPort: 0, gossipHost: '127.0.0.1', gossipPort: 0, seeds, cluster: 'drop', config, logger: pino({ level: 'silent' }) })
  started.push(n)
  return n
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'grapevine-drop-'))
  a = startNode('a', [])
  await a.start()
  c = connect(a.grpcAddress)
})

afterAll(async () => {
  c?.close()
  for (const n of started) await n.stop({ leave: false }).catch(() => {})
  await rm(dir, { recursive: true, force: true })
})

async function vectorAtA (): Promise<VectorEntry[]> {
  const res = await unary<{ version_vector: Buffer }>(c.cluster, 'Status', {})
  return decodeVector(res.version_vector)
}

async function idsAtA (): Promise<string[]> {
  const res = await unary<{ instances: Array<{ instance_id: string }> }>(c.registry, 'Discover', { service: 'web' })
  return res.instances.map(i => i.instance_id).sort()
}

describe('a member that left', () => {
  it('is dropped from the version vector once membership forgets it; back with its data dir, it is an owner again', async () => {
    const b = startNode('b', [a.gossipAddress])
    await b.start()
    await registerAt(b.grpcAddress, { service: 'web', instance_id: 'x', address: '10.0.0.1', port: 80 }, 60)
    await waitFor(async () => (await idsAtA()).includes('x'), { timeoutMs: 10_000, message: 'x at a' })
    const bId = b.id
    await b.stop({ leave: true })
    // LEFT: its records go at once, its owner state stays (gone) while membership lists it
    await waitFor(async () => (await idsAtA()).length === 0, { timeoutMs: 10_000, message: 'x gone at a' })
    expect((await vectorAtA()).find(e => e.owner === bId)?.liveness).toBe('gone')
    await waitFor(async () => !(await vectorAtA()).some(e => e.owner === bId), { timeoutMs: 15_000, message: 'b dropped from a\'s vector' })
    const members = await unary<{ members: Array<{ node_id: string }> }>(c.cluster, 'Members', {})
    expect(members.members.map(m => m.node_id)).not.toContain(bId)

    // the same node id (its data dir) comes back: its records are taken again, from it
    const again = startNode('b', [a.gossipAddress])
    await again.start()
    expect(again.id).toBe(bId)
    await waitFor(async () => (await idsAtA()).includes('x'), { timeoutMs: 10_000, message: 'x back at a' })
    expect((await vectorAtA()).find(e => e.owner === bId)?.liveness).toBe('alive')
  })
})
