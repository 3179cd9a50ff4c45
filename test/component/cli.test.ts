import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runClientCommand } from '../../client/commands.js'
import { createConfig } from '../../node/config.js'
import { GrapevineNode } from '../../node/node.js'
import { waitFor } from '../../cluster/wait.js'

// The client commands against one real node over real gRPC, output captured.
describe('grapevine client commands', () => {
  let dir: string
  let node: GrapevineNode

  async function run (command: string, ...argv: string[]): Promise<{ code: number, out: string[], err: string[] }> {
    return await runWith({}, command, ...argv)
  }

  async function runWith (io: { signal?: AbortSignal, out?: string[] }, command: string, ...argv: string[]): Promise<{ code: number, out: string[], err: string[] }> {
    const out: string[] = io.out ?? []
    const err: string[] = []
    const code = await runClientCommand(command, [...argv, '--addr', node.grpcAddress], { out: l => { out.push(l) }, err: l => { err.push(l) }, signal: io.signal })
    return { code, out, err }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'grapevine-cli-'))
    node = new GrapevineNode({
      name: 'cli', dataDir: path.join(dir, 'cli'), grpcHost: '127.0.0.1', grpcPort: 0, gossipHost: '127.0.0.1', gossipPort: 0,
      seeds: [], cluster: 'cli', config: createConfig('test'), logger: pino({ level: 'silent' })
    })
    await node.start()
  })

  afterAll(async () => {
    await node.stop({ leave: false })
    await rm(dir, { recursive: true, force: true })
  })

  it('pick answers one of the healthy instances, and the same one for the same hash key', async () => {
    for (const id of ['a', 'b', 'c']) expect((await run('register', '--service', 'cli-pick', '--id', id, '--address', '10.0.0.1', '--port', '80')).code).toBe(0)
    const picked = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const r = await run('pick', '--service', 'cli-pick', '--json')
      expect(r.code).toBe(0)
      picked.add(JSON.parse(r.out[0]).instance.instance_id)
    }
    // round robin over three instances, six picks: every one of them
    expect([...picked].sort()).toEqual(['a', 'b', 'c'])
    const first = await run('pick', '--service', 'cli-pick', '--strategy', 'ring_hash', '--hash-key', 'user-42', '--json')
    const again = await run('pick', '--service', 'cli-pick', '--strategy', 'ring_hash', '--hash-key', 'user-42', '--json')
    expect(JSON.parse(again.out[0]).instance.instance_id).toBe(JSON.parse(first.out[0]).instance.instance_id)
  })

  it('maintenance drains an instance out of healthy answers and --off brings it back', async () => {
    await run('register', '--service', 'cli-maint', '--id', 'm1', '--address', '10.0.0.2', '--port', '81')
    const on = await run('maintenance', '--service', 'cli-maint', '--id', 'm1', '--reason', 'deploy', '--json')
    expect(on.code).toBe(0)
    expect(JSON.parse(on.out[0]).instance).toMatchObject({ status: 'MAINTENANCE', metadata: { maintenance_reason: 'deploy' } })
    const healthy = await run('discover', '--service', 'cli-maint', '--json')
    expect(JSON.parse(healthy.out[0]).instances).toEqual([])
    expect((await run('pick', '--service', 'cli-maint')).code).toBe(1)
    const off = await run('maintenance', '--service', 'cli-maint', '--id', 'm1', '--off', '--json')
    expect(JSON.parse(off.out[0]).instance.status).toBe('PASSING')
    expect(JSON.parse((await run('discover', '--service', 'cli-maint', '--json')).out[0]).instances).toHaveLength(1)
  })

  it('bad input fails naming the field, and changes nothing', async () => {
    // the node's INVALID_ARGUMENT: the call failed (1); a flag this command cannot parse is usage (2)
    const r = await run('maintenance', '--service', 'Not A Service', '--id', 'm1')
    expect(r.code).toBe(1)
    expect(r.err.join('\n')).toMatch(/^grapevine: service: /)
    expect((await run('pick', '--service', 'cli-maint', '--bogus', 'x')).code).toBe(2)
    const unknown = await run('maintenance', '--service', 'cli-maint', '--id', 'nope')
    expect(unknown.code).toBe(1)
    expect(JSON.parse((await run('discover', '--service', 'cli-maint', '--json')).out[0]).instances).toHaveLength(1)
  })

  it('watch, heartbeat, deregister, members, status and services, each against the node', async () => {
    // watch prints the opening set's end, then the changes, until its signal (Ctrl-C) ends it with 0
    const stop = new AbortController()
    const events: string[] = []
    const watching = runWith({ signal: stop.signal, out: events }, 'watch', '--service', 'cli-all', '--json')
    await waitFor(() => events.some(l => JSON.parse(l).type === 'SYNCED'), { message: 'watch SYNCED' })
    expect((await run('register', '--service', 'cli-all', '--id', 'w1', '--address', '10.0.0.3', '--port', '82')).code).toBe(0)
    await waitFor(() => events.some(l => JSON.parse(l).type === 'UPSERT'), { message: 'UPSERT on the watch' })
    const beat = await run('heartbeat', '--service', 'cli-all', '--id', 'w1', '--json')
    expect(beat.code).toBe(0)
    expect(Number(JSON.parse(beat.out[0]).ttl_remaining_ms)).toBeGreaterThan(0)
    expect((await run('services')).out.join('\n')).toMatch(/cli-all\s+1\s+1/)
    const gone = await run('deregister', '--service', 'cli-all', '--id', 'w1')
    expect(gone).toMatchObject({ code: 0, out: ['cli-all/w1 deregistered'] })
    await waitFor(() => events.some(l => JSON.parse(l).type === 'DELETE'), { message: 'DELETE on the watch' })
    expect((await run('deregister', '--service', 'cli-all', '--id', 'w1')).out).toEqual(['cli-all/w1 was not registered'])
    // a heartbeat for an instance this node does not hold: NOT_FOUND, the call failed
    const lost = await run('heartbeat', '--service', 'cli-all', '--id', 'w1')
    expect(lost.code).toBe(1)
    expect(lost.err.join('\n')).toMatch(/not registered with this node/)
    stop.abort()
    expect((await watching).code).toBe(0)
    const members = await run('members', '--json')
    expect(JSON.parse(members.out[0]).members).toEqual([expect.objectContaining({ name: 'cli', state: 'ALIVE', node_id: node.id })])
    const status = await run('status', '--json')
    expect(JSON.parse(status.out[0])).toMatchObject({ node_id: node.id })
  })
})

