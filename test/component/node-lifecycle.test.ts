import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { connect, unary } from '../../client/client.js'
import { createConfig } from '../../node/config.js'
import { GrapevineNode } from '../../node/node.js'
import { waitFor } from '../../cluster/wait.js'

// A node's start and stop, in process, on real sockets: whatever happens, a stopped node serves nothing.

const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async d => await rm(d, { recursive: true, force: true }))) })

async function node (): Promise<{ node: GrapevineNode, dataDir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'grapevine-life-'))
  dirs.push(dir)
  const dataDir = path.join(dir, 'n')
  const n = new GrapevineNode({ name: 'n', dataDir, grpcHost: '127.0.0.1', grpcPort: 0, gossipHost: '127.0.0.1', gossipPort: 0, seeds: [], cluster: 'life', config: createConfig('test'), logger: pino({ level: 'silent' }) })
  return { node: n, dataDir }
}

async function listening (address: string | undefined): Promise<boolean> {
  if (address == null || address === '') return false
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))]
  return await new Promise(resolve => {
    const s = net.connect({ host, port })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => { resolve(false) })
  })
}

describe('a node stops whole', () => {
  it('when stop() comes while it is starting', async () => {
    const { node: n } = await node()
    const started = n.start()
    await new Promise(resolve => setImmediate(resolve))
    await n.stop({ leave: false })
    await started
    expect(await listening(n.grpcAddress)).toBe(false)
    expect(await listening(n.gossipAddress)).toBe(false)
  })

  it('when its data dir cannot be written: stop() says so, and the gossip host is down all the same', async () => {
    const { node: n, dataDir } = await node()
    await n.start()
    const c = connect(n.grpcAddress)
    await unary(c.registry, 'Register', { instance: { service: 'web', instance_id: 'a', address: '10.0.0.1', port: 80 } })
    // the node key and the records stay private to the user
    expect((await stat(path.join(dataDir, 'node.key'))).mode & 0o777).toBe(0o600)
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700)
    await waitFor(async () => await stat(path.join(dataDir, 'records.journal')).then(() => true, () => false), { message: 'the journal written' })
    // a directory where the journal was: every append fails, whatever the user (root ignores modes)
    await rm(path.join(dataDir, 'records.journal'))
    await mkdir(path.join(dataDir, 'records.journal', 'x'), { recursive: true })
    await unary(c.registry, 'Register', { instance: { service: 'web', instance_id: 'b', address: '10.0.0.1', port: 81 } })
    c.close()
    await expect(n.stop({ leave: false })).rejects.toThrow(/could not be written/)
    expect(await listening(n.gossipAddress)).toBe(false)
    expect(await listening(n.grpcAddress)).toBe(false)
  })
})
