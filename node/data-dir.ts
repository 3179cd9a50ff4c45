import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { parseRecord } from './gossip/codec.js'
import type { InstanceRecord } from './registry/types.js'

let tmpSeq = 0

// Records are immutable (a change makes a new object), so each one's JSON is
// made once: every save writes all owned records, and stringifying them all
// again each time blocked the owner's event loop for ms per save under load.
const recordJson = new WeakMap<InstanceRecord, string>()

/** The same text as JSON.stringify(records), from each record's cached JSON. */
export function encodeRecords (records: readonly PersistedRecord[]): string {
  const parts = new Array<string>(records.length)
  for (let i = 0; i < records.length; i++) {
    const { record, expiresAtMs } = records[i]
    let json = recordJson.get(record)
    if (json === undefined) {
      json = JSON.stringify(record)
      // V8 builds a long result as a tree of parts (about 3 extra strings per record, kept with
      // the cache); converting it to a number flattens it in place, so the parts can go
      void Number(json)
      recordJson.set(record, json)
    }
    parts[i] = `{"record":${json},"expiresAtMs":${JSON.stringify(expiresAtMs)}}`
  }
  return `[${parts.join(',')}]`
}

/** An owned record as persisted: with the wall-clock time its TTL runs out. */
export interface PersistedRecord {
  readonly record: InstanceRecord
  readonly expiresAtMs: number
}

/**
 * The node's folder: its key (so a restarted node is the same node), its
 * incarnation (which rises on every start) and the records it owns. Every
 * write goes to a temporary file renamed over the old one, so a crash in
 * the middle leaves the previous version, never half a file.
 */
export class DataDir {
  constructor (readonly dir: string) {}

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
    await this.writeAtomic(file, privateKeyToProtobuf(key))
    return key
  }

  /** The incarnation for this start: one more than the last start's. */
  async nextIncarnation (): Promise<number> {
    const file = path.join(this.dir, 'incarnation')
    const text = await readFile(file, 'utf8').catch(err => { if (err.code === 'ENOENT') return '0'; throw err })
    const last = Number.parseInt(text, 10)
    const next = (Number.isSafeInteger(last) && last >= 0 ? last : 0) + 1
    await this.writeAtomic(file, String(next))
    return next
  }

  /** The records persisted by the last run, with when each expires; a damaged file counts as none. */
  async records (): Promise<PersistedRecord[]> {
    const text = await readFile(path.join(this.dir, 'records.json'), 'utf8').catch(err => { if (err.code === 'ENOENT') return '[]'; throw err })
    try {
      const list = JSON.parse(text) as unknown
      if (!Array.isArray(list)) return []
      return list.map((e, i) => {
        const expiresAtMs = (e as { expiresAtMs?: unknown })?.expiresAtMs
        if (typeof expiresAtMs !== 'number' || !Number.isFinite(expiresAtMs)) throw new Error(`records[${i}].expiresAtMs: not a number`)
        return { record: parseRecord((e as { record?: unknown }).record, `records[${i}].record`), expiresAtMs }
      })
    } catch {
      return []
    }
  }

  /** Replaces the persisted records. */
  async saveRecords (records: readonly PersistedRecord[]): Promise<void> {
    await this.writeAtomic(path.join(this.dir, 'records.json'), encodeRecords(records))
  }

  private async writeAtomic (file: string, data: string | Uint8Array): Promise<void> {
    // a name per write: two writes in flight must not rename each other's file
    const tmp = `${file}.${process.pid}.${++tmpSeq}.tmp`
    await writeFile(tmp, data)
    await rename(tmp, file)
  }
}
