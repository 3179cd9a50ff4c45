import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { connect, openWatch, unary } from '../../client/client.js'
import type { GrapevineClients, WireWatchEvent } from '../../client/client.js'
import { waitFor } from '../../cluster/wait.js'
import { createConfig } from '../../node/config.js'
import { GrapevineNode } from '../../node/node.js'
import { registerAt } from '../helpers/register-at.js'

// Real nodes (in process, real gRPC and libp2p) whose wall clock jumps: an
// NTP step must not expire every TTL at once, nor reap a dead owner early.

const realNow = Date.now.bind(Date)
let offsetMs = 0
let dir = ''
let n: GrapevineNode
let c: GrapevineClients
const extra: GrapevineNode[] = []

function startNode (name: string, seeds: string[], config = createConfig('test')): GrapevineNode {
  return new GrapevineNode({ name, dataDir: path.join(dir, name), grpcHost: '127.0.0.1', grpcPort: 0, gossipHost: '127.0.0.1', gossipPort: 0, seeds, cluster: 'clock', config, logger: pino({ level: 'silent' }) })
}

beforeAll(async () => {
  // the node takes Date.now at start: the spy is its wall clock
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs)
  dir = await mkdtemp(path.join(tmpdir(), 'grapevine-clock-'))
  // a long reap, so that only a clock that jumps could reach it within the test
  n = startNode('n', [], createConfig('test', { ownerReapMs: 30_000 }))
  await n.start()
  c = connect(n.grpcAddress)
})

afterAll(async () => {
  c?.close()
  for (const x of extra) await x.stop({ leave: false })
  await n?.stop({ leave: false })
  vi.restoreAllMocks()
  await rm(dir, { recursive: true, force: true })
})

async function ids (service = 'web', includeUnhealthy = false): Promise<string[]> {
  const res = await unary<{ instances: Array<{ instance_id: string }> }>(c.registry, 'Discover', { service, include_unhealthy: includeUnhealthy })
  return res.instances.map(i => i.instance_id).sort()
}

async function memberState (name: string): Promise<string | undefined> {
  const res = await unary<{ members: Array<{ name: string, state: string }> }>(c.cluster, 'Members', {})
  return res.members.find(m => m.name === name)?.state
}

describe('a wall-clock step', () => {
  it('forward by an hour expires no TTL; back again, a TTL still runs out on time', async () => {
    await unary(c.registry, 'Register', { instance: { service: 'web', instance_id: 'a', address: '10.0.0.1', port: 80 }, ttl_seconds: 60 })
    await unary(c.registry, 'Register', { instance: { service: 'web', instance_id: 'b', address: '10.0.0.2', port: 80 }, ttl_seconds: 1 })
    expect(await ids()).toEqual(['a', 'b'])
    offsetMs = 3_600_000
    // several TTL sweeps (every 200 ms on the test profile); before, the first one dropped both
    await sleep(700)
    expect(await ids()).toContain('a')
    offsetMs = 0
    // b's 1 s TTL, unrenewed, runs out by the clock that did not move
    await waitFor(async () => !(await ids()).includes('b'), { message: 'b expired' })
    expect(await ids()).toEqual(['a'])
  })

  it('forward by an hour does not reap a dead owner\'s instances before ownerReapMs', async () => {
    const b = startNode('b', [n.gossipAddress])
    extra.push(b)
    await b.start()
    await registerAt(b.grpcAddress, { service: 'api', instance_id: 'x', address: '10.0.0.3', port: 80 }, 600)
    await waitFor(async () => (await ids('api')).includes('x'), { message: 'x replicated to n' })
    // b dies without a word: n finds it DEAD and keeps x, CRITICAL, for ownerReapMs
    await b.stop({ leave: false })
    await waitFor(async () => (await memberState('b')) === 'DEAD', { message: 'b DEAD on n' })
    expect(await ids('api')).toEqual([])
    expect(await ids('api', true)).toEqual(['x'])
    offsetMs = 3_600_000
    try {
      // several reaper rounds (every second) and SWIM sweeps; before, the
      // jump counted as an hour of DEAD: b left the member table
      // (deadMemberKeepMs) and the reaper, which goes by that table, never
      // dropped x; or, with the table kept, x went at the next reap
      await sleep(2500)
      expect(await memberState('b')).toBe('DEAD')
      expect(await ids('api', true)).toEqual(['x'])
    } finally {
      offsetMs = 0
    }
  })

  it('forward by an hour prunes no tombstone: a resume from before a delete gets the DELETE, not a RESET', async () => {
    await unary(c.registry, 'Register', { instance: { service: 'gone', instance_id: 't', address: '10.0.0.4', port: 80 }, ttl_seconds: 600 })
    const { resume_token: token } = await unary<{ resume_token: Uint8Array }>(c.registry, 'Discover', { service: 'gone' })
    await unary(c.registry, 'Deregister', { service: 'gone', instance_id: 't' })
    offsetMs = 3_600_000
    try {
      // several reaper rounds (every second), each pruning tombstones older than tombstoneRetentionMs (10 min)
      await sleep(2500)
    } finally {
      offsetMs = 0
    }
    const events: string[] = []
    const w = openWatch(c.registry, { service: 'gone', resume_token: token })
    try {
      await new Promise<void>((resolve, reject) => {
        w.on('data', (e: WireWatchEvent) => {
          events.push(`${e.type} ${e.instance?.instance_id ?? ''}`.trim())
          if (e.type === 'SYNCED') resolve()
        })
        w.on('error', reject)
      })
    } finally {
      w.cancel()
    }
    expect(events).toEqual(['DELETE t', 'SYNCED'])
  })
})
