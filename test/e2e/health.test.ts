/**
 * Health checks end to end: three real node processes; an instance with an
 * HTTP check against a server in this test process. When the server starts
 * failing, the instance leaves Discover on every node. The deadline is the
 * documented bound (interval × failure_threshold + one interval of phase +
 * a gossip hop, with room for a loaded machine), not a measurement.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { unary } from '../../client/client.js'
import { LocalCluster } from '../../cluster/launcher.js'
import { freeBasePort } from '../../cluster/free-ports.js'
import { waitFor } from '../../cluster/wait.js'
import { calls } from '../helpers/cluster-calls.js'
import { toggleServer } from '../helpers/toggle-http.js'
import type { ToggleServer } from '../helpers/toggle-http.js'

const INTERVAL_MS = 1000
const THRESHOLD = 2
let cluster: LocalCluster
let dir = ''
let web: ToggleServer

const servedIds = async (i: number): Promise<string[]> => (await calls(cluster, i).discover('shop')).map(x => x.instance_id).sort()

describe('an HTTP check with real processes', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'grapevine-e2e-health-'))
    web = await toggleServer(200)
    cluster = new LocalCluster({ nodes: 3, dir, basePort: await freeBasePort(7680, 6), profile: 'test', cluster: 'e2e-health' })
    await cluster.start({ timeoutMs: 60_000 })
  }, 90_000)

  afterAll(async () => {
    await cluster?.stop()
    await web?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('a failing instance leaves Discover on every node, and comes back once it passes (the time it took is printed)', async () => {
    for (const id of ['s0', 's2']) await calls(cluster, 2).register('shop', id)
    await unary(cluster.clients(1).registry, 'Register', {
      instance: { service: 'shop', instance_id: 's1', address: '127.0.0.1', port: web.port },
      check: { http: { path: '/health' }, interval_ms: INTERVAL_MS, timeout_ms: 500, failure_threshold: THRESHOLD }
    })
    for (const i of [1, 2, 3]) {
      await waitFor(async () => (await servedIds(i)).join() === 's0,s1,s2', { timeoutMs: 15_000, message: `s1 served on n${i}` })
    }
    web.status = 503
    const started = Date.now()
    // the expected time (interval × threshold plus a gossip hop) is printed, not asserted: a shared machine
    await waitFor(async () => (await Promise.all([1, 2, 3].map(servedIds))).every(ids => ids.join() === 's0,s2'),
      { timeoutMs: 15_000, intervalMs: 50, message: 's1 gone from every node' })
    console.log(`s1 left Discover on all three nodes ${Date.now() - started} ms after its server started failing`)
    web.status = 200
    await waitFor(async () => (await Promise.all([1, 2, 3].map(servedIds))).every(ids => ids.join() === 's0,s1,s2'),
      { timeoutMs: 15_000, message: 's1 back everywhere' })
    expect((await calls(cluster, 3).discover('shop')).find(x => x.instance_id === 's1')?.status).toBe('PASSING')
  })
})
