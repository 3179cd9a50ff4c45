import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freeBasePort } from '../../cluster/free-ports.js'
import { defaultEntry } from '../../cluster/launcher.js'
import { waitFor } from '../../cluster/wait.js'

// `grapevine cluster up` as a user runs it: a real launcher process and its nodes.

const started: ChildProcess[] = []
let dir = ''

afterAll(async () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM')
  await Promise.all(started.map(async p => { if (p.exitCode === null && p.signalCode === null) await new Promise(resolve => p.once('exit', resolve)) }))
  if (dir !== '') await rm(dir, { recursive: true, force: true })
}, 30_000)

function launch (args: string[]): { proc: ChildProcess, out: () => string, exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [defaultEntry(), 'cluster', 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  started.push(proc)
  let text = ''
  proc.stdout?.on('data', (b: Buffer) => { text += b.toString() })
  proc.stderr?.on('data', (b: Buffer) => { text += b.toString() })
  const exited = new Promise<number | null>(resolve => proc.once('exit', code => { resolve(code) }))
  return { proc, out: () => text, exited }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('grapevine cluster up', () => {
  it('a second one on the same dir and ports is refused and leaves cluster.json alone; SIGHUP stops the nodes with the launcher', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'grapevine-up-'))
    const base = await freeBasePort(24_500, 4)
    const args = ['--nodes', '2', '--dir', dir, '--base-port', String(base), '--profile', 'test']
    const first = launch(args)
    await waitFor(() => first.out().includes('grapevine cluster ready'), { timeoutMs: 45_000, message: () => `the first launcher ready; it said: ${first.out()}` })
    const file = path.join(dir, 'cluster.json')
    const before = readFileSync(file, 'utf8')
    const pids = (JSON.parse(before) as { nodes: Array<{ pid: number }> }).nodes.map(n => n.pid)

    // before, it said "ready" for the first cluster's nodes and wrote its own dead pids
    const second = launch(args)
    expect(await second.exited).not.toBe(0)
    expect(second.out()).toMatch(/ports in use/)
    expect(second.out()).not.toMatch(/cluster ready/)
    expect(readFileSync(file, 'utf8')).toBe(before)
    expect(pids.every(alive)).toBe(true)

    // the terminal closed: before, the launcher died alone and its nodes ran on
    first.proc.kill('SIGHUP')
    expect(await first.exited).toBe(0)
    await waitFor(() => !pids.some(alive), { timeoutMs: 15_000, message: 'every node to have stopped with the launcher' })
  }, 90_000)
})
