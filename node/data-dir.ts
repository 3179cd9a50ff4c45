import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { DataDirInUseError } from './errors.js'
import { RecordStore, writeAtomic } from './record-store.js'

const LOCK_FILE = 'LOCK'

/**
 * The node's folder: its key (so a restarted node is the same node), its
 * incarnation (which rises on every start) and the records it owns
 * (record-store.ts, a snapshot and a journal). The key and the incarnation
 * go to a temporary file renamed over the old one, so a crash in the middle
 * leaves the previous version, never half a file.
 */
export class DataDir {
  /** The records it owns, on disk. */
  readonly records: RecordStore

  constructor (readonly dir: string) {
    this.records = new RecordStore(dir)
  }

  /**
   * Creates the folder and takes it for this process: a second node on the
   * same folder would serve with the same peer id, and each would write over
   * the other's records (etcd locks its WAL the same way). A lock left by a
   * process that is gone (SIGKILL) is taken over.
   */
  async open (): Promise<void> {
    // the node key is in it: this user's only, as etcd keeps its data dir
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await this.lock()
  }

  /** Gives the folder up (the node stopped); only a lock of this process's. */
  async close (): Promise<void> {
    const file = path.join(this.dir, LOCK_FILE)
    if (await readPid(file) === process.pid) await rm(file, { force: true })
  }

  private async lock (): Promise<void> {
    const file = path.join(this.dir, LOCK_FILE)
    for (let attempt = 0; ; attempt++) {
      try {
        await writeFile(file, String(process.pid), { flag: 'wx', mode: 0o600 })
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err
      }
      const holder = await readPid(file)
      if (holder != null && holder !== process.pid && running(holder)) {
        throw new DataDirInUseError(`the data dir ${this.dir} is in use by process ${holder} (another node on the same folder would take its identity)`)
      }
      // left by a process that is gone: taken over (two taking it at once: one of the 'wx' fails)
      await rm(file, { force: true })
    }
  }

  /** The node key, made on first start. */
  async key (): Promise<PrivateKey> {
    const file = path.join(this.dir, 'node.key')
    const bytes = await readFile(file).catch(err => { if (err.code === 'ENOENT') return null; throw err })
    if (bytes != null) {
      // written readable by all by versions before 2026-11-30
      await chmod(file, 0o600)
      return privateKeyFromProtobuf(bytes)
    }
    const key = await generateKeyPair('Ed25519')
    await writeAtomic(file, privateKeyToProtobuf(key), 0o600)
    return key
  }

  /** The incarnation for this start: one more than the last start's. */
  async nextIncarnation (): Promise<number> {
    const file = path.join(this.dir, 'incarnation')
    const text = await readFile(file, 'utf8').catch(err => { if (err.code === 'ENOENT') return '0'; throw err })
    const last = Number.parseInt(text, 10)
    const next = (Number.isSafeInteger(last) && last >= 0 ? last : 0) + 1
    await writeAtomic(file, String(next))
    return next
  }
}

async function readPid (file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => null)
  const pid = text == null ? NaN : Number.parseInt(text, 10)
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null
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
