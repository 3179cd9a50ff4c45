import { spawn, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
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
    await mkdir(at, { recursive: true })
    // the test runner's parent stands in for another node: it runs, and is not us
    await writeFile(path.join(at, 'LOCK'), `${process.ppid} theirs\n`)
    const err = await new DataDir(at).open().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DataDirInUseError)
    expect((err as Error).message).toContain(`in use by process ${process.ppid}`)
    await new DataDir(at).close()
    expect(await readFile(path.join(at, 'LOCK'), 'utf8')).toBe(`${process.ppid} theirs\n`)
  })

  it('takes over a lock whose process is gone (a node killed with SIGKILL), and gives it up on close', async () => {
    const at = await fresh()
    await new DataDir(at).open().then(async () => { await new DataDir(at).close() })
    const gone = spawnSync(process.execPath, ['-e', '0']).pid
    await writeFile(path.join(at, 'LOCK'), String(gone))
    const dir = new DataDir(at)
    await dir.open()
    expect(await readFile(path.join(at, 'LOCK'), 'utf8')).toMatch(new RegExp(`^${process.pid} `))
    await dir.close()
    await expect(stat(path.join(at, 'LOCK'))).rejects.toThrow(/ENOENT/)
  })

  it('refuses a second node of this process on the same folder, and the first one\'s close leaves the folder free', async () => {
    const at = await fresh()
    const first = new DataDir(at)
    await first.open()
    await expect(new DataDir(at).open()).rejects.toThrow(/in use by another node of this process/)
    await first.close()
    const second = new DataDir(at)
    await second.open()
    await second.close()
  })

  it.each(['a stale lock', 'no lock'])('gives the folder to exactly one of two processes that take it at once (%s)', async (start) => {
    const lockJs = path.resolve('dist/node/dir-lock.js')
    // each child takes the lock, says whether it got it, and holds it until it is told to go
    const child = `import('${lockJs}').then(async ({ DirLock }) => { try { await new DirLock(process.argv[1]).acquire(); console.log('locked') } catch (e) { console.log(e.name) } setTimeout(() => {}, 1500) })`
    for (let pair = 0; pair < 8; pair++) {
      const at = await fresh()
      await mkdir(at, { recursive: true })
      if (start === 'a stale lock') await writeFile(path.join(at, 'LOCK'), `${spawnSync(process.execPath, ['-e', '0']).pid} gone\n`)
      const children = [0, 1].map(() => spawn(process.execPath, ['-e', child, at], { stdio: ['ignore', 'pipe', 'inherit'] }))
      // both answer while both still run: a holder that exited would leave a stale lock to take over
      const said = await Promise.all(children.map(async p => await new Promise<string>((resolve, reject) => {
        p.stdout.once('data', (b: Buffer) => { resolve(b.toString().trim()) })
        p.once('error', reject)
      })))
      for (const p of children) p.kill()
      expect(said.sort()).toEqual(['DataDirInUseError', 'locked'])
    }
  })
})

