import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parseRecord } from './gossip/codec.js'
import type { InstanceRecord } from './registry/types.js'
import { recordKey } from './registry/types.js'

/** An owned record as persisted: with the wall-clock time its TTL runs out. */
export interface PersistedRecord {
  readonly record: InstanceRecord
  readonly expiresAtMs: number
}

/** One line of the journal: a record written or removed, or only its deadline moved. */
export type JournalChange =
  | { readonly key: string, readonly entry: PersistedRecord | null }
  | { readonly key: string, readonly expiresAtMs: number }

/** Below this size the journal is never compacted: a small rewrite would gain nothing. */
const MIN_COMPACT_BYTES = 1024 * 1024

let tmpSeq = 0

/**
 * The owned records on disk: a snapshot (`records.json`) and a journal of
 * the changes since (`records.journal`). Rewriting every owned record after
 * each change cost the owner a fifth of its CPU under a Register load, and
 * more the more it owned; an append costs what changed. Once the journal
 * outgrows the snapshot, the next write is a new snapshot, so the rewrites
 * cost O(1) per change over time.
 *
 * Both files carry a generation: a compaction writes the snapshot of the
 * next generation, then an empty journal of it, each to a temporary file
 * renamed over the old one. A crash between the two renames leaves a
 * journal of the older generation, which the load ignores; a crash in an
 * append leaves a torn last line, which the load drops.
 */
export class RecordStore {
  private gen = 0
  private journalBytes = 0
  private snapshotBytes = 0
  // appends need a journal of this process's current generation: the first write is a compaction
  private journalReady = false

  constructor (private readonly dir: string) {}

  private get snapshotFile (): string { return path.join(this.dir, 'records.json') }
  private get journalFile (): string { return path.join(this.dir, 'records.journal') }

  /** True when the next write should rewrite everything (first write, a failed one, or a journal grown past the snapshot). */
  get needsCompaction (): boolean {
    return !this.journalReady || this.journalBytes > Math.max(MIN_COMPACT_BYTES, this.snapshotBytes)
  }

  /** After a failed write, what is on disk is unknown: the next write rewrites everything. */
  invalidate (): void {
    this.journalReady = false
  }

  /** The records of the last run: the snapshot with the journal replayed over it. A damaged snapshot counts as none. */
  async load (): Promise<PersistedRecord[]> {
    const records = new Map<string, PersistedRecord>()
    const journal = await readOrNull(this.journalFile)
    const journalGen = journal == null ? 0 : headerGen(journal)
    const text = await readOrNull(this.snapshotFile)
    let snapshotGen: number
    try {
      snapshotGen = text == null ? 0 : readSnapshot(text, records)
    } catch {
      records.clear()
      snapshotGen = -1
    }
    // the next generation must be above both files': a stale journal must never match a later snapshot
    this.gen = Math.max(snapshotGen, journalGen)
    if (snapshotGen < 0) return []
    if (journal != null && journalGen > 0 && journalGen === snapshotGen) replay(journal, records)
    return [...records.values()]
  }

  /** Replaces both files with a snapshot of `records` and an empty journal. */
  async compact (records: readonly PersistedRecord[]): Promise<void> {
    const gen = this.gen + 1
    this.journalReady = false
    const snapshot = await encodeSnapshot(gen, records)
    await writeAtomic(this.snapshotFile, snapshot)
    // from here the snapshot on disk is of `gen`: a failure below must not reuse the number
    this.gen = gen
    const header = `${JSON.stringify({ gen })}\n`
    await writeAtomic(this.journalFile, header)
    this.snapshotBytes = Buffer.byteLength(snapshot)
    this.journalBytes = header.length
    this.journalReady = true
  }

  /** Appends changes to the journal; only after a compaction of this process (see needsCompaction). */
  async append (changes: readonly JournalChange[]): Promise<void> {
    if (!this.journalReady) throw new Error('record journal: no journal of this generation yet (compact first)')
    if (changes.length === 0) return
    const text = changes.map(encodeChange).join('')
    await appendFile(this.journalFile, text)
    this.journalBytes += Buffer.byteLength(text)
  }
}

/** Records encoded between two yields of the event loop: a node owning 100,000 must not stall for the whole snapshot. */
const ENCODE_CHUNK = 2000

async function encodeSnapshot (gen: number, records: readonly PersistedRecord[]): Promise<string> {
  const parts: string[] = []
  for (let i = 0; i < records.length; i++) {
    if (i > 0 && i % ENCODE_CHUNK === 0) await new Promise(resolve => setImmediate(resolve))
    // records are immutable: the list taken at the start is one consistent state
    const e = records[i]
    parts.push(`{"record":${JSON.stringify(e.record)},"expiresAtMs":${JSON.stringify(e.expiresAtMs)}}`)
  }
  return `{"gen":${gen},"records":[${parts.join(',')}]}`
}

function encodeChange (c: JournalChange): string {
  if ('entry' in c) {
    return c.entry == null
      ? `{"k":${JSON.stringify(c.key)}}\n`
      : `{"k":${JSON.stringify(c.key)},"r":${JSON.stringify(c.entry.record)},"e":${JSON.stringify(c.entry.expiresAtMs)}}\n`
  }
  return `{"k":${JSON.stringify(c.key)},"e":${JSON.stringify(c.expiresAtMs)}}\n`
}

// the snapshot's generation; an array is the format of earlier versions (generation 0, no journal)
function readSnapshot (text: string, into: Map<string, PersistedRecord>): number {
  const doc = JSON.parse(text) as unknown
  const legacy = Array.isArray(doc)
  const gen = legacy ? 0 : (doc as { gen?: unknown })?.gen
  if (typeof gen !== 'number' || !Number.isSafeInteger(gen) || gen < 0) throw new Error('records.json: gen is not a count')
  const list = legacy ? doc : (doc as { records?: unknown }).records
  if (!Array.isArray(list)) throw new Error('records.json: records is not a list')
  list.forEach((e, i) => {
    const record = parseRecord((e as { record?: unknown })?.record, `records[${i}].record`)
    into.set(recordKey(record.service, record.instanceId), { record, expiresAtMs: deadline((e as { expiresAtMs?: unknown }).expiresAtMs, `records[${i}].expiresAtMs`) })
  })
  return gen
}

// the generation in the journal's first line; 0 when it has none
function headerGen (text: string): number {
  try {
    const end = text.indexOf('\n')
    const gen = (JSON.parse(end < 0 ? text : text.slice(0, end)) as { gen?: unknown })?.gen
    return typeof gen === 'number' && Number.isSafeInteger(gen) && gen > 0 ? gen : 0
  } catch {
    return 0
  }
}

// replays the journal's lines after its header; a torn or damaged line ends the replay
function replay (text: string, into: Map<string, PersistedRecord>): void {
  const lines = text.split('\n')
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue
    try {
      applyLine(JSON.parse(lines[i]) as unknown, i, into)
    } catch {
      // only the last line can be torn (appends are sequential); anything after a bad line is not trusted
      return
    }
  }
}

function applyLine (raw: unknown, line: number, into: Map<string, PersistedRecord>): void {
  const o = raw as { k?: unknown, r?: unknown, e?: unknown }
  if (typeof o?.k !== 'string') throw new Error(`records.journal:${line}: k is not a string`)
  if (o.r !== undefined) {
    const record = parseRecord(o.r, `records.journal:${line}.r`)
    if (recordKey(record.service, record.instanceId) !== o.k) throw new Error(`records.journal:${line}: k does not match the record`)
    into.set(o.k, { record, expiresAtMs: deadline(o.e, `records.journal:${line}.e`) })
  } else if (o.e !== undefined) {
    const prev = into.get(o.k)
    if (prev != null) into.set(o.k, { record: prev.record, expiresAtMs: deadline(o.e, `records.journal:${line}.e`) })
  } else {
    into.delete(o.k)
  }
}

function deadline (v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${field}: not a number`)
  return v
}

async function readOrNull (file: string): Promise<string | null> {
  return await readFile(file, 'utf8').catch(err => { if (err.code === 'ENOENT') return null; throw err })
}

/** Writes to a temporary file renamed over `file`: a crash leaves the old version, never half a file. */
export async function writeAtomic (file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  // a name per write: two writes in flight must not rename each other's file
  const tmp = `${file}.${process.pid}.${++tmpSeq}.tmp`
  try {
    await writeFile(tmp, data, { mode })
    await rename(tmp, file)
  } catch (err) {
    // a full disk must not fill up further with our leftovers
    await rm(tmp, { force: true }).catch(() => {})
    throw err
  }
}
