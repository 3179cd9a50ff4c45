import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_CHECK } from '../../node/health/check-spec.js'
import { RecordStore } from '../../node/record-store.js'
import type { PersistedRecord } from '../../node/record-store.js'
import { rec } from './registry-fixtures.js'

describe('RecordStore', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'gv-records-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  const a = rec('web', 'a', { tags: ['x'], metadata: { 'k"ey': 'v\n' }, check: { ...DEFAULT_CHECK, kind: 'tcp' } })
  const b = rec('db', 'b', { load: 0.5 })
  const c = rec('db', 'c')
  const journal = async (): Promise<string[]> => (await readFile(path.join(dir, 'records.journal'), 'utf8')).split('\n').filter(l => l !== '')

  it('reads back a compaction, and nothing from an empty folder', async () => {
    expect(await new RecordStore(dir).load()).toEqual([])
    const list: PersistedRecord[] = [{ record: a, expiresAtMs: 1_000_000 }, { record: b, expiresAtMs: 2_000_000 }]
    await new RecordStore(dir).compact(list)
    expect(await new RecordStore(dir).load()).toEqual(list)
    // more records than one encoding chunk (the event loop is yielded between chunks)
    const many = Array.from({ length: 4500 }, (_, i) => ({ record: rec('bulk', `i${i}`), expiresAtMs: i }))
    await new RecordStore(dir).compact(many)
    expect(await new RecordStore(dir).load()).toEqual(many)
  })

  it('replays the journal over the snapshot: writes, removals and moved deadlines', async () => {
    const s = new RecordStore(dir)
    await s.compact([{ record: a, expiresAtMs: 100 }, { record: b, expiresAtMs: 200 }])
    const b2 = { ...b, port: 9 }
    await s.append([{ key: 'web/a', entry: null }, { key: 'db/c', entry: { record: c, expiresAtMs: 300 } }])
    await s.append([{ key: 'db/b', entry: { record: b2, expiresAtMs: 250 } }, { key: 'db/c', expiresAtMs: 350 }])
    // a deadline of a key no longer there changes nothing
    await s.append([{ key: 'web/a', expiresAtMs: 999 }])
    expect(await journal()).toHaveLength(6)
    expect(await new RecordStore(dir).load()).toEqual([{ record: b2, expiresAtMs: 250 }, { record: c, expiresAtMs: 350 }])
  })

  it('drops a torn last line and trusts nothing after a damaged one', async () => {
    const s = new RecordStore(dir)
    await s.compact([{ record: a, expiresAtMs: 100 }])
    await s.append([{ key: 'db/b', entry: { record: b, expiresAtMs: 200 } }])
    await appendFile(path.join(dir, 'records.journal'), '{"k":"db/c","r":{"service":"db"')
    expect(await new RecordStore(dir).load()).toEqual([{ record: a, expiresAtMs: 100 }, { record: b, expiresAtMs: 200 }])
    // a line whose key does not match its record ends the replay too
    await writeFile(path.join(dir, 'records.journal'), `{"gen":1}\n{"k":"db/x","r":${JSON.stringify(c)},"e":1}\n{"k":"web/a"}\n`)
    expect(await new RecordStore(dir).load()).toEqual([{ record: a, expiresAtMs: 100 }])
  })

  it('ignores a journal of an older generation (a crash between the two renames of a compaction)', async () => {
    const s = new RecordStore(dir)
    await s.compact([{ record: a, expiresAtMs: 100 }])
    await s.append([{ key: 'web/a', entry: null }])
    const stale = await readFile(path.join(dir, 'records.journal'), 'utf8')
    await s.compact([{ record: b, expiresAtMs: 200 }])
    await writeFile(path.join(dir, 'records.journal'), stale)
    expect(await new RecordStore(dir).load()).toEqual([{ record: b, expiresAtMs: 200 }])
  })

  it('reads the snapshot format of earlier versions (a list), and a damaged snapshot as no records', async () => {
    await writeFile(path.join(dir, 'records.json'), JSON.stringify([{ record: a, expiresAtMs: 100 }]))
    const s = new RecordStore(dir)
    expect(await s.load()).toEqual([{ record: a, expiresAtMs: 100 }])
    // the first compaction after it follows the legacy generation 0
    await s.compact([{ record: b, expiresAtMs: 1 }])
    expect(JSON.parse(await readFile(path.join(dir, 'records.json'), 'utf8')).gen).toBe(1)
    await writeFile(path.join(dir, 'records.json'), '{"gen":1,"records":[{"record":')
    const damaged = new RecordStore(dir)
    expect(await damaged.load()).toEqual([])
    // the journal's generation still counts: the next snapshot is above it, so that journal can never match it
    await damaged.compact([{ record: c, expiresAtMs: 3 }])
    expect(JSON.parse(await readFile(path.join(dir, 'records.json'), 'utf8')).gen).toBe(2)
    await writeFile(path.join(dir, 'records.json'), JSON.stringify({ gen: 1, records: [{ record: { ...a, port: 'x' }, expiresAtMs: 1 }] }))
    expect(await new RecordStore(dir).load()).toEqual([])
  })

  it('asks for a compaction first, after a failure, and once the journal outgrows the snapshot', async () => {
    const s = new RecordStore(dir)
    expect(s.needsCompaction).toBe(true)
    await expect(s.append([{ key: 'web/a', entry: null }])).rejects.toThrow(/compact first/)
    await s.compact([{ record: a, expiresAtMs: 100 }])
    expect(s.needsCompaction).toBe(false)
    // past the 1 MB floor (the snapshot is smaller): about 1.2 MB of writes of one key
    const big = { ...a, metadata: { blob: 'x'.repeat(4000) } }
    for (let i = 0; i < 300; i++) await s.append([{ key: 'web/a', entry: { record: big, expiresAtMs: i } }])
    expect(s.needsCompaction).toBe(true)
    await s.compact([{ record: big, expiresAtMs: 299 }])
    expect(s.needsCompaction).toBe(false)
    expect(await journal()).toEqual(['{"gen":2}'])
    s.invalidate()
    expect(s.needsCompaction).toBe(true)
  })
})
