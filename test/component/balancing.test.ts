import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { status } from '@grpc/grpc-js'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, unary } from '../../client/client.js'
import type { GrapevineClients } from '../../client/client.js'
import { waitFor } from '../../cluster/wait.js'
import { createConfig } from '../../node/config.js'
import { GrapevineNode } from '../../node/node.js'
import { toggleServer } from '../helpers/toggle-http.js'
import type { ToggleServer } from '../helpers/toggle-http.js'

// Health checks, Pick, maintenance and balancer stats through real gRPC on two real nodes.
describe('health and balancing over gRPC', () => {
  let dir: string
  const nodes: GrapevineNode[] = []
  const clients: GrapevineClients[] = []
  let web: ToggleServer

  const discover = async (i: number, service: string, extra: object = {}): Promise<any> =>
    await unary<any>(clients[i].registry, 'Discover', { service, ...extra })
  const statusOn = async (i: number, service: string, id: string): Promise<string | undefined> =>
    (await discover(i, service, { include_unhealthy: true })).instances.find((x: any) => x.instance_id === id)?.status

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'grapevine-balancing-'))
    web = await toggleServer(200)
    for (const name of ['a', 'b']) {
      const node = new GrapevineNode({
        name, dataDir: path.join(dir, name), grpcHost: '127.0.0.1', grpcPort: 0, gossipHost: '127.0.0.1', gossipPort: 0,
        seeds: nodes.length === 0 ? [] : [nodes[0].gossipAddress], cluster: 'balancing', config: createConfig('test'), logger: pino({ level: 'silent' })
      })
      await node.start()
      nodes.push(node)
      clients.push(connect(node.grpcAddress))
    }
    await waitFor(async () => (await unary<any>(clients[1].cluster, 'Status', {})).members_alive === 2, { timeoutMs: 15_000, message: 'both ALIVE' })
  })

  afterAll(async () => {
    for (const c of clients) c.close()
    await Promise.all(nodes.map(async n => await n.stop({ leave: false })))
    await web.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('an HTTP check starts CRITICAL, passes, and failing takes the instance out of Discover on the other node', async () => {
    // two healthy TTL instances beside it: one failing instance of three stays under the panic threshold
    for (const id of ['w0', 'w2']) await unary(clients[0].registry, 'Register', { instance: { service: 'web', instance_id: id, address: '10.0.0.2', port: 80 } })
    const check = { http: { path: '/health' }, interval_ms: 1000, timeout_ms: 500, failure_threshold: 1, success_threshold: 1 }
    const res = await unary<any>(clients[0].registry, 'Register', { instance: { service: 'web', instance_id: 'w1', address: '127.0.0.1', port: web.port }, check })
    expect(res.instance.status).toBe('CRITICAL')
    expect(res.instance.check.http.path).toBe('/health')
    await waitFor(async () => await statusOn(1, 'web', 'w1') === 'PASSING', { timeoutMs: 10_000, message: 'w1 PASSING on b' })
    web.status = 500
    await waitFor(async () => await statusOn(1, 'web', 'w1') === 'CRITICAL', { timeoutMs: 10_000, message: 'w1 CRITICAL on b' })
    const served = await discover(1, 'web')
    expect(served.panic).toBe(false)
    expect(served.instances.map((x: any) => x.instance_id).sort()).toEqual(['w0', 'w2'])
    web.status = 429
    await waitFor(async () => await statusOn(1, 'web', 'w1') === 'WARNING', { timeoutMs: 10_000, message: 'w1 WARNING (429) on b' })
    // WARNING is still served, after the PASSING ones
    expect((await discover(1, 'web')).instances.map((x: any) => x.instance_id).at(-1)).toBe('w1')
  })

  it('panics (and says so) when fewer than half of a service is healthy', async () => {
    const check = { http: { path: '/health' }, interval_ms: 1000, timeout_ms: 500, failure_threshold: 1, success_threshold: 1 }
    web.status = 500
    await unary(clients[0].registry, 'Register', { instance: { service: 'lonely', instance_id: 'l1', address: '127.0.0.1', port: web.port }, check })
    await waitFor(async () => await statusOn(1, 'lonely', 'l1') === 'CRITICAL', { timeoutMs: 10_000, message: 'l1 CRITICAL on b' })
    const answer = await discover(1, 'lonely')
    expect(answer.panic).toBe(true)
    expect(answer.instances.map((x: any) => x.instance_id)).toEqual(['l1'])
    const picked = await unary<any>(clients[1].registry, 'Pick', { service: 'lonely' })
    expect(picked).toMatchObject({ panic: true, instance: { instance_id: 'l1' } })
  })

  it('rejects a bad check naming its field, and changes nothing', async () => {
    const err = await unary(clients[0].registry, 'Register', {
      instance: { service: 'web', instance_id: 'bad', address: '127.0.0.1', port: 1 }, check: { http: { path: '/x' }, interval_ms: 10 }
    }).catch(e => e)
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(err.details).toContain('check.interval_ms')
    expect(await statusOn(0, 'web', 'bad')).toBeUndefined()
  })

  it('Pick balances round robin, counts picks, and is UNAVAILABLE when nothing can serve', async () => {
    for (const id of ['p1', 'p2', 'p3']) await unary(clients[0].registry, 'Register', { instance: { service: 'pick', instance_id: id, address: '10.0.0.1', port: 80 } })
    await waitFor(async () => (await discover(1, 'pick')).instances.length === 3, { message: 'three on b' })
    const picked: string[] = []
    for (let i = 0; i < 30; i++) picked.push((await unary<any>(clients[1].registry, 'Pick', { service: 'pick' })).instance.instance_id)
    for (const id of ['p1', 'p2', 'p3']) expect(picked.filter(x => x === id)).toHaveLength(10)
    const stats = await unary<any>(clients[1].registry, 'BalancerStats', { service: 'pick' })
    expect(stats.instances).toEqual([{ instance_id: 'p1', picks: 10 }, { instance_id: 'p2', picks: 10 }, { instance_id: 'p3', picks: 10 }])
    const none = await unary(clients[1].registry, 'Pick', { service: 'nothing-here' }).catch(e => e)
    expect(none.code).toBe(status.UNAVAILABLE)
    const bad = await unary(clients[1].registry, 'Pick', { service: 'pick', strategy: 'fastest' }).catch(e => e)
    expect(bad.code).toBe(status.INVALID_ARGUMENT)
    expect(bad.details).toContain('strategy')
  })

  it('ring_hash keeps a key on one instance; SetMaintenance drains it everywhere and back', async () => {
    const first = (await unary<any>(clients[1].registry, 'Pick', { service: 'pick', strategy: 'ring_hash', hash_key: 'user-42' })).instance.instance_id
    for (let i = 0; i < 5; i++) expect((await unary<any>(clients[1].registry, 'Pick', { service: 'pick', strategy: 'ring_hash', hash_key: 'user-42' })).instance.instance_id).toBe(first)
    const m = await unary<any>(clients[0].registry, 'SetMaintenance', { service: 'pick', instance_id: first, enabled: true, reason: 'deploy' })
    expect(m.instance.status).toBe('MAINTENANCE')
    expect(m.instance.metadata.maintenance_reason).toBe('deploy')
    await waitFor(async () => await statusOn(1, 'pick', first) === 'MAINTENANCE', { message: 'drained on b' })
    expect((await unary<any>(clients[1].registry, 'Pick', { service: 'pick', strategy: 'ring_hash', hash_key: 'user-42' })).instance.instance_id).not.toBe(first)
    await unary(clients[0].registry, 'SetMaintenance', { service: 'pick', instance_id: first, enabled: false })
    await waitFor(async () => await statusOn(1, 'pick', first) === 'PASSING', { message: 'back on b' })
    const notMine = await unary(clients[1].registry, 'SetMaintenance', { service: 'pick', instance_id: first, enabled: true }).catch(e => e)
    expect(notMine.code).toBe(status.NOT_FOUND)
  })

  it('SetMaintenance with a reason refuses an instance at the metadata limit, naming the reason, and changes nothing', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v']))
    await unary(clients[0].registry, 'Register', { instance: { service: 'full', instance_id: 'f1', address: '10.0.0.7', port: 80, metadata } })
    const err = await unary(clients[0].registry, 'SetMaintenance', { service: 'full', instance_id: 'f1', enabled: true, reason: 'deploy' }).catch(e => e)
    expect(err.code).toBe(status.INVALID_ARGUMENT)
    expect(err.details).toMatch(/^reason: .*64 metadata pairs/)
    const after = (await discover(0, 'full')).instances[0]
    expect(after.status).toBe('PASSING')
    expect(Object.keys(after.metadata)).toHaveLength(64)
    // without a reason it drains
    expect((await unary<any>(clients[0].registry, 'SetMaintenance', { service: 'full', instance_id: 'f1', enabled: true })).instance.status).toBe('MAINTENANCE')
  })

  it('Heartbeat reports status and load; the load reaches the other node and least_request uses it', async () => {
    await unary(clients[0].registry, 'Heartbeat', { service: 'pick', instance_id: 'p2', status: 'WARNING', load: 50 })
    await waitFor(async () => {
      const p2 = (await discover(1, 'pick')).instances.find((x: any) => x.instance_id === 'p2')
      return p2?.status === 'WARNING' && p2.load === 50
    }, { message: 'p2 WARNING with load 50 on b' })
    // WARNING ranks after PASSING: never picked while PASSING instances serve
    for (let i = 0; i < 10; i++) expect((await unary<any>(clients[1].registry, 'Pick', { service: 'pick', strategy: 'least_request' })).instance.instance_id).not.toBe('p2')
  })
})
