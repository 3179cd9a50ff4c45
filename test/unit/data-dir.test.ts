import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DataDir } from '../../node/data-dir.js'
import { DataDirInUseError } from '../../node/errors.js'

const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async d => await rm(d, { recursive: true, force: true }))) })

async function fresh (): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'grapevine-dir-'))
  dirs.push(d)
  return path.join(d, 'data')
}

describe('DataDir', () => {
  it('is made for its user only, with the node key 0600', async () => {
    const dir = new DataDir(await fresh())
    await dir.open()
    await dir.key()
    expect((await stat(dir.dir)).mode & 0o777).toBe(0o700)
    expect((await stat(path.join(dir.dir, 'node.key'))).mode & 0o777).toBe(0o600)
    await dir.close()
  })

  it('refuses a folder another running process holds, naming it, and leaves its lock alone', async () => {
    const at = await fresh()
    const first = new DataDir(at)
    await first.open()
    // the test runner's parent stands in for another node: it runs, and is not us
    await writeFile(path.join(at, 'LOCK'), String(process.ppid))
    const err = await new DataDir(at).open().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DataDirInUseError)
    expect((err as Error).message).toContain(`in use by process ${process.ppid}`)
    await new DataDir(at).close()
    expect(await readFile(path.join(at, 'LOCK'), 'utf8')).toBe(String(process.ppid))
  })

  it('takes over a lock whose process is gone (a node killed with SIGKILL), and gives it up on close', async () => {
    const at = await fresh()
    await new DataDir(at).open()
    const gone = spawnSync(process.execPath, ['-e', '0']).pid
    await writeFile(path.join(at, 'LOCK'), String(gone))
    const dir = new DataDir(at)
    await dir.open()
    expect(await readFile(path.join(at, 'LOCK'), 'utf8')).toBe(String(process.pid))
    await dir.close()
    await expect(stat(path.join(at, 'LOCK'))).rejects.toThrow(/ENOENT/)
  })
})
