import { chmod, mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { DirLock } from './dir-lock.js'
import { RecordStore, writeAtomic } from './record-store.js'

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
  private readonly lock: DirLock

  constructor (readonly dir: string) {
    this.records = new RecordStore(dir)
    this.lock = new DirLock(dir)
  }

  /** Creates the folder and takes it for this process (dir-lock.ts). */
  async open (): Promise<void> {
    // the node key is in it: this user's only, as etcd keeps its data dir
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await this.lock.acquire()
  }

  /** Gives the folder up (the node stopped). */
  async close (): Promise<void> {
    await this.lock.release()
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
