import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
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

  constructor (readonly dir: string) {
    this.records = new RecordStore(dir)
  }

  /** Creates the folder. */
  async open (): Promise<void> {
    await mkdir(this.dir, { recursive: true })
  }

  /** The node key, made on first start. */
  async key (): Promise<PrivateKey> {
    const file = path.join(this.dir, 'node.key')
    const bytes = await readFile(file).catch(err => { if (err.code === 'ENOENT') return null; throw err })
    if (bytes != null) return privateKeyFromProtobuf(bytes)
    const key = await generateKeyPair('Ed25519')
    await writeAtomic(file, privateKeyToProtobuf(key))
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
