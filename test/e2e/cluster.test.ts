/**
 * End-to-end: five real `grapevine node` processes (dist/, built by `npm test`'s
 * pretest) on 127.0.0.1, driven over real gRPC. The scenarios share one
 * cluster and run in order; each says which nodes it needs alive.
 *
 * Synchronisation is always waitFor with a deadline. The deadlines are
 * generous upper bounds, never measurements; the one that documents
 * behaviour (a SIGTERMed node's instances go in < 5 s) says so.
 *
 * Nodes run the `test` profile: failure detection 500 ms, owner reap 3 s.
 * On failure the cluster dir (node logs n1.log...) is kept and its path printed.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { status as grpcStatus } from '@grpc/grpc-js'
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { openWatch, unary } from '../../client/client.js'
import type { WireInstance, WireMember, WireStatus, WireWatchEvent } from '../../client/client.js'
import { LocalCluster } from '../../cluster/launcher.js'
import { freeBasePort } from '../../cluster/free-ports.js'
import type { NodeExit } from '../../cluster/launcher.js'
import { waitFor } from '../../cluster/wait.js'

const NODES = 5
// 7600-7609 when free (else a free range): gRPC on even ports, gossip on odd ones
const BASE_PORT = 7600
// propagation, detection and convergence bounds: far above what a healthy cluster needs
const CONVERGE_MS = 15_000
const POLL_MS = 50

let cluster: LocalCluster
let dir = ''
let failed = false
const exits: NodeExit[] = []
const watches: WatchLog[] = []
const heartbeaters: Heartbeater[] = []
const alive = new Set<number>()

// ---------------------------------------------------------------- helpers

function registryOf (i: number): ReturnType<LocalCluster['clients']>['registry'] {
  return cluster.clients(i).registry
}

/** Live nodes other than `except`. */
function othersThan (...except: number[]): number[] {
  return [...alive].sort((a, b) => a - b).filter(i => !except.includes(i))
}

function nodeId (i: number): string {
  const id = cluster.node(i).nodeId
  if (id === undefined) throw new Error(`n${i} has no node id yet`)
  return id
}

async function register (i: number, service: string, instanceId: string, opts: { ttlSeconds?: number, port?: number, version?: string } = {}): Promise<WireInstance> {
  const res = await unary<{ instance: WireInstance }>(registryOf(i), 'Register', {
    instance: { service, instance_id: instanceId, address: '127.0.0.1', port: opts.port ?? 9000, protocol: 'http', version: opts.version ?? 'v1' },
    ttl_seconds: opts.ttlSeconds ?? 600
  })
  return res.instance
}

async function discover (i: number, service: string, includeUnhealthy = false): Promise<WireInstance[]> {
  const res = await unary<{ instances: WireInstance[] }>(registryOf(i), 'Discover', { service, include_unhealthy: includeUnhealthy }, { deadlineMs: 2000 })
  return res.instances
}

async function members (i: number): Promise<WireMember[]> {
  return (await unary<{ members: WireMember[] }>(cluster.clients(i).cluster, 'Members', {}, { deadlineMs: 2000 })).members
}

async function statusOf (i: number): Promise<WireStatus> {
  return await unary<WireStatus>(cluster.clients(i).cluster, 'Status', {}, { deadlineMs: 2000 })
}

async function heartbeat (i: number, service: string, instanceId: string): Promise<number> {
  return (await unary<{ ttl_remaining_ms: number }>(registryOf(i), 'Heartbeat', { service, instance_id: instanceId }, { deadlineMs: 2000 })).ttl_remaining_ms
}

/** The error a call rejected with; fails the test if it resolved. */
async function rejection (call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call
  } catch (err) {
    return err as ServiceError
  }
  throw new Error('expected the call to fail, it succeeded')
}

function ids (instances: readonly WireInstance[]): string[] {
  return instances.map(x => x.instance_id).sort()
}

function memberOf (list: readonly WireMember[], id: string): WireMember | undefined {
  return list.find(m => m.node_id === id)
}

/** Waits until every node in `nodes` serves exactly `expected` (sorted ids) PASSING for `service`. */
async function waitServed (nodes: readonly number[], service: string, expected: readonly string[], what: string): Promise<void> {
  let last = ''
  await waitFor(async () => {
    const views = await Promise.all(nodes.map(async i => ({ i, got: await discover(i, service) })))
    last = views.map(v => `n${v.i}: [${v.got.map(x => `${x.instance_id}:${x.status}`).join(' ')}]`).join('; ')
    return views.every(v => JSON.stringify(ids(v.got)) === JSON.stringify([...expected].sort()) && v.got.every(x => x.status === 'PASSING'))
  }, { timeoutMs: CONVERGE_MS, intervalMs: POLL_MS, message: () => `${what}; last seen ${last}` })
}

/** Waits until every live node reports the same Status.digest; returns it. */
async function waitDigestsAgree (nodes: readonly number[] = othersThan()): Promise<string> {
  let last = ''
  return await waitFor(async () => {
    const all = await Promise.all(nodes.map(async i => await statusOf(i)))
    last = all.map(s => `${s.name}=${s.digest.slice(0, 12)}(${s.instances})`).join(' ')
    return new Set(all.map(s => s.digest)).size === 1 ? all[0].digest : undefined
  }, { timeoutMs: CONVERGE_MS, intervalMs: POLL_MS, message: () => `Status.digest to agree on ${nodes.map(i => `n${i}`).join(', ')}; last ${last}` })
}

/** Records every event of one Registry.Watch. */
class WatchLog {
  readonly events: WireWatchEvent[] = []
  error: ServiceError | undefined
  private readonly stream: ClientReadableStream<WireWatchEvent>

  constructor (readonly node: number, request: { service?: string, tags?: string[], resume_token?: Uint8Array }) {
    this.stream = openWatch(registryOf(node), request)
    this.stream.on('data', (ev: WireWatchEvent) => { this.events.push(ev) })
    this.stream.on('error', (err: ServiceError) => { this.error = err })
    watches.push(this)
  }

  /** Index of the first event matching `pred`, waiting for it. */
  async indexOf (pred: (ev: WireWatchEvent) => boolean, what: string): Promise<number> {
    const k = await waitFor(() => {
      const idx = this.events.findIndex(pred)
      if (idx >= 0) return idx + 1
      if (this.error !== undefined) throw new Error(`watch on n${this.node} failed: ${this.error.code} ${this.error.details}`)
      return 0
    }, { timeoutMs: CONVERGE_MS, intervalMs: 20, message: () => `${what} on the watch on n${this.node}; events so far: ${this.describe()}` })
    return k - 1
  }

  /** Waits for the watch to fail with a status; a rejected request should fail at once, 5 s is generous. */
  async failure (): Promise<ServiceError> {
    return await waitFor(() => this.error, { timeoutMs: 5000, intervalMs: 20, message: () => `the watch on n${this.node} to fail; events: ${this.describe()}` })
  }

  describe (): string {
    return this.events.map(e => e.type === 'SYNCED' ? 'SYNCED' : `${e.type}(${e.instance?.instance_id ?? '?'})`).join(' ') || '(none)'
  }

  close (): void {
    this.stream.cancel()
  }
}

/** A client's heartbeat loop: renews `instanceIds` on node `i` every `everyMs`, ignoring failures. */
class Heartbeater {
  private readonly timer: NodeJS.Timeout
  constructor (i: number, service: string, instanceIds: readonly string[], everyMs = 300) {
    this.timer = setInterval(() => {
      for (const id of instanceIds) heartbeat(i, service, id).catch(() => {})
    }, everyMs)
    heartbeaters.push(this)
  }

  stop (): void {
    clearInterval(this.timer)
  }
}

// ---------------------------------------------------------------- cluster

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'grapevine-e2e-'))
  cluster = new LocalCluster({ nodes: NODES, dir, basePort: await freeBasePort(BASE_PORT, 2 * NODES), profile: 'test', cluster: 'e2e', onExit: e => { exits.push(e) } })
  await cluster.start({ timeoutMs: 45_000 })
  for (let i = 1; i <= NODES; i++) alive.add(i)
}, 60_000)

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => { failed = true })
})

afterAll(async () => {
  for (const h of heartbeaters) h.stop()
  for (const w of watches) w.close()
  await cluster?.stop()
  if (dir === '') return
  if (failed) {
    console.warn(`e2e failed: node logs kept in ${dir} (n1.log ... n${NODES}.log)`)
  } else {
    await rm(dir, { recursive: true, force: true })
  }
}, 30_000)

// ---------------------------------------------------------------- scenarios

describe('a five-node cluster of real processes', () => {
  it('a registration on n1 reaches Discover on n5 and a Watch on n3', async () => {
    const service = 'e2e-basic'
    const watch = new WatchLog(3, { service })
    // nothing registered yet: the snapshot is empty, so SYNCED comes first
    expect(await watch.indexOf(e => e.type === 'SYNCED', 'SYNCED')).toBe(0)

    const stored = await register(1, service, 'web-1', { port: 8081 })
    expect(stored.owner_node).toBe(nodeId(1))
    expect(stored.status).toBe('PASSING')

    await waitServed([5], service, ['web-1'], 'web-1 served by n5')
    const [onN5] = await discover(5, service)
    expect(onN5).toMatchObject({ instance_id: 'web-1', port: 8081, owner_node: nodeId(1), registered_at_ms: stored.registered_at_ms })

    const k = await watch.indexOf(e => e.type === 'UPSERT' && e.instance?.instance_id === 'web-1', 'UPSERT web-1')
    expect(watch.events[k].instance).toMatchObject({ service, instance_id: 'web-1', port: 8081, owner_node: nodeId(1), status: 'PASSING' })
    expect(watch.events[k].resume_token.length).toBeGreaterThan(0)
    watch.close()
  })

  // shared by the SIGKILL and the restart scenarios
  // the TTL must outlast the kill, its detection, the reap and the restart on a loaded machine (10 s was tight)
  const killed = { service: 'e2e-killed', beaten: ['k-1', 'k-2'], unbeaten: 'k-3', ttlSeconds: 20, incarnation: 0 }

  it('SIGKILL: the dead owner\'s instances leave healthy answers, show CRITICAL, then are reaped; it is DEAD', async () => {
    const { service, beaten, unbeaten, ttlSeconds } = killed
    const all = [...beaten, unbeaten]
    for (const id of all) await register(2, service, id, { ttlSeconds })
    // registered and deregistered before the crash: the restart below must not bring it back from the disk
    await register(2, service, 'k-gone', { ttlSeconds: 600 })
    expect(await unary(registryOf(2), 'Deregister', { service, instance_id: 'k-gone' })).toMatchObject({ existed: true })
    // the owner's TTL is short: its client heartbeats until the crash
    const beats = new Heartbeater(2, service, all)
    const others = othersThan(2)
    await waitServed(others, service, all, 'n2\'s instances served everywhere')
    const n2 = nodeId(2)
    killed.incarnation = memberOf(await members(1), n2)?.incarnation ?? -1
    expect(killed.incarnation).toBeGreaterThan(0)

    beats.stop()
    await cluster.kill(2, 'SIGKILL')
    alive.delete(2)

    // each survivor, at some poll: n2 DEAD, nothing healthy, every instance CRITICAL.
    // The CRITICAL window is ownerReapMs (3 s) long per node, hence the fast polling.
    const sawCritical = new Set<number>()
    const last = new Map<number, string>()
    await waitFor(async () => {
      await Promise.all(others.filter(i => !sawCritical.has(i)).map(async i => {
        const [healthy, unhealthy, list] = await Promise.all([discover(i, service), discover(i, service, true), members(i)])
        const state = memberOf(list, n2)?.state
        last.set(i, `n2=${state} healthy=[${ids(healthy).join(' ')}] all=[${unhealthy.map(x => `${x.instance_id}:${x.status}`).join(' ')}]`)
        if (state === 'DEAD' && healthy.length === 0 && JSON.stringify(ids(unhealthy)) === JSON.stringify(all) && unhealthy.every(x => x.status === 'CRITICAL')) {
          sawCritical.add(i)
        }
      }))
      return sawCritical.size === others.length
    }, { timeoutMs: CONVERGE_MS, intervalMs: 20, message: () => `every survivor to see n2 DEAD with its instances CRITICAL; last ${[...last].map(([i, s]) => `n${i}: ${s}`).join('; ')}` })

    // then reaped: gone even from include_unhealthy, while n2 stays DEAD
    let reapView = ''
    await waitFor(async () => {
      const views = await Promise.all(others.map(async i => ({ i, got: await discover(i, service, true), state: memberOf(await members(i), n2)?.state })))
      reapView = views.map(v => `n${v.i}: n2=${v.state} [${ids(v.got).join(' ')}]`).join('; ')
      return views.every(v => v.got.length === 0 && v.state === 'DEAD')
    }, { timeoutMs: CONVERGE_MS, intervalMs: POLL_MS, message: () => `n2's instances to be reaped; last ${reapView}` })
  })

  it('restart: the node rejoins with a higher incarnation, digests agree, and heartbeated persisted instances come back', async () => {
    const { service, beaten, unbeaten } = killed
    const n2 = nodeId(2)
    await cluster.restart(2)
    alive.add(2)
    expect(nodeId(2)).toBe(n2) // same key from the data dir

    // the records persisted before the crash, their TTL not yet run out, were re-announced (not k-gone, deregistered); their clients heartbeat the restarted owner
    expect(ids(await discover(2, service, true))).toEqual([...beaten, unbeaten].sort())
    for (const id of beaten) expect(await heartbeat(2, service, id)).toBeGreaterThan(0)
    const beats = new Heartbeater(2, service, beaten)

    await cluster.waitAllAlive(CONVERGE_MS)
    let seen = ''
    await waitFor(async () => {
      const views = await Promise.all(othersThan().map(async i => ({ i, m: memberOf(await members(i), n2) })))
      seen = views.map(v => `n${v.i}: ${v.m?.state}@${v.m?.incarnation}`).join('; ')
      return views.every(v => v.m?.state === 'ALIVE' && v.m.incarnation > killed.incarnation)
    }, { timeoutMs: CONVERGE_MS, intervalMs: POLL_MS, message: () => `n2 ALIVE above incarnation ${killed.incarnation} everywhere; last ${seen}` })

    await waitServed(othersThan(2), service, beaten, 'the heartbeated instances served again by the others')
    for (const i of othersThan(2)) {
      for (const x of await discover(i, service)) expect(x.owner_node).toBe(n2)
    }

    // nobody heartbeats k-3: the owner expires it one TTL after the restart. Once it is
    // gone from n2, the heartbeated ones have outlived that TTL, and must still be served.
    await waitFor(async () => !ids(await discover(2, service, true)).includes(unbeaten),
      { timeoutMs: killed.ttlSeconds * 1000 + CONVERGE_MS, intervalMs: POLL_MS, message: `${unbeaten} (not heartbeated) to expire on n2` })
    await waitServed(othersThan(), service, beaten, 'the heartbeated instances still served after the unbeaten one expired')

    await waitDigestsAgree()

    beats.stop()
    for (const id of beaten) await unary(registryOf(2), 'Deregister', { service, instance_id: id })
  })

  it('SIGTERM: the leaving owner\'s instances go from every other node at once, never CRITICAL; it is LEFT', async () => {
    const service = 'e2e-leaving'
    const all = ['t-1', 't-2']
    for (const id of all) await register(5, service, id)
    const others = othersThan(5)
    await waitServed(others, service, all, 'n5\'s instances served everywhere')
    const n5 = nodeId(5)
    const incarnation = memberOf(await members(1), n5)?.incarnation

    const statuses = new Set<string>()
    let last = ''
    const stopped = cluster.kill(5, 'SIGTERM')
    // Documents behaviour, not speed: 5 s is independent of failure detection and reap
    // (a DEAD owner's instances would show CRITICAL for ownerReapMs first).
    await waitFor(async () => {
      const views = await Promise.all(others.map(async i => ({ i, got: await discover(i, service, true) })))
      for (const v of views) for (const x of v.got) statuses.add(x.status)
      last = views.map(v => `n${v.i}: [${v.got.map(x => `${x.instance_id}:${x.status}`).join(' ')}]`).join('; ')
      return views.every(v => v.got.length === 0)
    }, { timeoutMs: CONVERGE_MS, intervalMs: 20, message: () => `n5's instances to go from every other node after SIGTERM; last ${last}` })
    await stopped
    alive.delete(5)
    expect([...statuses]).not.toContain('CRITICAL')
    expect(exits.find(e => e.index === 5)).toMatchObject({ signal: null, code: 0, expected: true })

    let seen = ''
    await waitFor(async () => {
      const views = await Promise.all(others.map(async i => ({ i, m: memberOf(await members(i), n5) })))
      seen = views.map(v => `n${v.i}: ${v.m?.state}@${v.m?.incarnation}`).join('; ')
      return views.every(v => v.m?.state === 'LEFT' && v.m.incarnation === incarnation)
    }, { timeoutMs: CONVERGE_MS, intervalMs: POLL_MS, message: () => `n5 LEFT everywhere; last ${seen}` })
  })

  it('a resume token from n2 resumes a Watch on n4: nothing missed gives SYNCED alone, missed changes come exactly', async () => {
    const service = 'e2e-resume'
    for (const id of ['a', 'b', 'd']) await register(1, service, id)
    await waitServed([2, 4], service, ['a', 'b', 'd'], 'a, b, d served by n2 and n4')
    // quiescent: n2 and n4 hold the same version vector, so n4 has all a token from n2 covers
    await waitFor(async () => {
      const [s2, s4] = await Promise.all([statusOf(2), statusOf(4)])
      return Buffer.compare(s2.version_vector, s4.version_vector) === 0
    }, { timeoutMs: CONVERGE_MS, intervalMs: POLL_MS, message: 'n2 and n4 to hold the same version vector' })

    // control: without a token, n4 sends a snapshot (UPSERTs) before SYNCED
    const fresh = new WatchLog(4, { service })
    expect(await fresh.indexOf(e => e.type === 'SYNCED', 'SYNCED of a fresh watch')).toBe(3)
    fresh.close()

    // 1. nothing missed: Discover's token from n2 resumes on n4 with SYNCED first
    const token = (await unary<{ resume_token: Buffer }>(registryOf(2), 'Discover', { service })).resume_token
    expect(token.length).toBeGreaterThan(0)
    const resumed = new WatchLog(4, { service, resume_token: token })
    expect(await resumed.indexOf(e => e.type === 'SYNCED', 'SYNCED of the resumed watch')).toBe(0)
    // and it is live after that
    await register(1, service, 'e')
    const k = await resumed.indexOf(e => e.type === 'UPSERT' && e.instance?.instance_id === 'e', 'UPSERT e on the resumed watch')
    expect(resumed.events.slice(0, k + 1).map(e => e.type)).toEqual(['SYNCED', 'UPSERT'])
    resumed.close()

    // 2. missed changes: a token from a Watch event on n2, then changes, then resume on n4
    const before = new WatchLog(2, { service })
    const s = await before.indexOf(e => e.type === 'SYNCED', 'SYNCED on n2')
    const old = before.events[s].resume_token
    before.close()
    expect(ids(before.events.slice(0, s).map(e => e.instance as WireInstance))).toEqual(['a', 'b', 'd', 'e'])

    await register(1, service, 'c') // added
    await unary(registryOf(1), 'Deregister', { service, instance_id: 'a' }) // removed
    await register(1, service, 'b', { version: 'v2' }) // changed
    await waitServed([4], service, ['b', 'c', 'd', 'e'], 'the changes to reach n4')

    const caughtUp = new WatchLog(4, { service, resume_token: old })
    const end = await caughtUp.indexOf(e => e.type === 'SYNCED', 'SYNCED after the missed changes')
    const missed = caughtUp.events.slice(0, end).map(e => `${e.type} ${e.instance?.instance_id ?? '?'}`).sort()
    expect(missed).toEqual(['DELETE a', 'UPSERT b', 'UPSERT c'])
    expect(caughtUp.events.find(e => e.type === 'UPSERT' && e.instance?.instance_id === 'b')?.instance?.version).toBe('v2')
    caughtUp.close()
  })

  it('bad input over gRPC: INVALID_ARGUMENT naming the field, NOT_FOUND, and nothing changes', async () => {
    const nodes = othersThan()
    const digest = await waitDigestsAgree(nodes)
    const before = await statusOf(3)
    expect(before.digest).toBe(digest)

    const bad = await rejection(register(3, 'e2e-bad', 'p-1', { port: 70_000 }))
    expect(bad.code).toBe(grpcStatus.INVALID_ARGUMENT)
    expect(bad.details).toContain('instance.port')
    const after = await statusOf(3)
    expect(after.digest).toBe(before.digest)
    expect(after.instances).toBe(before.instances)
    expect(await discover(3, 'e2e-bad', true)).toEqual([])

    const unknown = await rejection(heartbeat(3, 'e2e-bad', 'nobody'))
    expect(unknown.code).toBe(grpcStatus.NOT_FOUND)

    const watch = new WatchLog(3, { service: 'e2e-bad', resume_token: Buffer.from('certainly not a token') })
    const err = await watch.failure()
    expect(err.code).toBe(grpcStatus.INVALID_ARGUMENT)
    expect(err.details).toContain('resume_token')
    expect(watch.events).toEqual([])

    // nothing above reached any node's view
    expect(await waitDigestsAgree(nodes)).toBe(digest)
  })
})
