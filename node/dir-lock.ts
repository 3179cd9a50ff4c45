import { randomUUID } from 'node:crypto'
import { link, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { DataDirInUseError } from './errors.js'

// folders locked by this process: a second node of one process on a folder is refused too
const held = new Set<string>()

interface Holder { readonly pid: number, readonly token: string }

/**
 * A data dir's lock: a `LOCK` file naming the holding process and a token of
 * the holder. A second node on the same folder would serve with the same
 * peer id, and each would write over the other's records (etcd locks its WAL
 * the same way). The file comes whole, by link(2) of a file already written,
 * so nobody ever reads it empty; a lock whose process is gone (SIGKILL, or an
 * earlier life of a reused pid) is taken over by one taker at a time, who
 * removes it only if it is still the one found stale.
 */
export class DirLock {
  private readonly token = randomUUID()
  private readonly key: string

  constructor (private readonly dir: string) {
    this.key = path.resolve(dir)
  }

  private get file (): string { return path.join(this.dir, 'LOCK') }

  /** Takes the folder; DataDirInUseError when a running node holds it. */
  async acquire (): Promise<void> {
    if (held.has(this.key)) throw new DataDirInUseError(`the data dir ${this.dir} is in use by another node of this process`)
    const mine = `${this.file}.${process.pid}.${this.token}.tmp`
    await writeFile(mine, `${process.pid} ${this.token}\n`, { mode: 0o600 })
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        if (await linked(mine, this.file)) {
          held.add(this.key)
          return
        }
        const holder = await readHolder(this.file)
        if (holder != null && holder.pid !== process.pid && running(holder.pid)) {
          throw new DataDirInUseError(`the data dir ${this.dir} is in use by process ${holder.pid} (another node on the same folder would take its identity)`)
        }
        await this.takeOver(mine, holder)
      }
      throw new DataDirInUseError(`the data dir ${this.dir}: its lock kept being taken by others`)
    } finally {
      await rm(mine, { force: true })
    }
  }

  /** Gives the folder up; only a lock this instance holds. */
  async release (): Promise<void> {
    if (!held.has(this.key)) return
    if ((await readHolder(this.file))?.token === this.token) await rm(this.file, { force: true })
    held.delete(this.key)
  }

  // one taker at a time (its own lock file, by link too): the stale lock goes only if it is still that one
  private async takeOver (mine: string, stale: Holder | null): Promise<void> {
    const guard = `${this.file}.takeover`
    if (!await linked(mine, guard)) {
      // another taker is at it; or one died at it, and its guard goes
      const taker = await readHolder(guard)
      if (taker == null || !running(taker.pid)) await rm(guard, { force: true })
      await new Promise(resolve => setTimeout(resolve, 20))
      return
    }
    try {
      const now = await readHolder(this.file)
      if (now?.pid === stale?.pid && now?.token === stale?.token) await rm(this.file, { force: true })
    } finally {
      await rm(guard, { force: true })
    }
  }
}

// link(2) fails when `to` exists: the one atomic create of a whole file
async function linked (from: string, to: string): Promise<boolean> {
  try {
    await link(from, to)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

async function readHolder (file: string): Promise<Holder | null> {
  const text = await readFile(file, 'utf8').catch(() => null)
  const [pidText, token] = (text ?? '').trim().split(' ')
  const pid = Number.parseInt(pidText ?? '', 10)
  return Number.isSafeInteger(pid) && pid > 0 ? { pid, token: token ?? '' } : null
}

// signal 0 tests a process without touching it: EPERM means it exists (another user's)
function running (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
