import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { connect, unary } from '../../client/client.js'
import type { GrapevineClients } from '../../client/client.js'
import { waitFor } from '../../cluster/wait.js'
import { createConfig } from '../../node/config.js'
import { GrapevineNode } from '../../node/node.js'

// A real node (in process, real gRPC) whose wall clock jumps: an NTP step must not expire every TTL at once.

const realNow = Date.now.bind(Date)
let offsetMs = 0
let dir = ''
let n: GrapevineNode
let c: GrapevineClients

beforeAll(async () => {
  // the node takes Date.now at start: the spy is its wall clock
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs)
  dir = await mkdtemp(path.join(tmpdir(), 'grapevine-clock-'))
  n = new GrapevineNode({ name: 'n', dataDir: path.join(dir, 'n'), grpcHost: '127.0.0.1', grpcPort: 0, gossipHost: '127.0.0.1', gossipPort: 0, seeds: [], cluster: 'clock', config: createConfig('test'), logger: pino({ level: 'silent' }) })
  await n.start()
  c = connect(n.grpcAddress)
})

afterAll(async () => {
  c?.close()
  await n?.stop({ leave: false })
  vi.restoreAllMocks()
  await rm(dir, { recursive: true, force: true })
})

async function ids (): Promise<string[]> {
  const res = await unary<{ instances: Array<{ instance_id: string }> }>(c.registry, 'Discover', { service: 'web' })
  return res.instances.map(i => i.instance_id).sort()
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
})
