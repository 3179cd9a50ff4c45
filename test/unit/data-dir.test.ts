import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_CHECK } from '../../node/health/check-spec.js'
import { DataDir, encodeRecords } from '../../node/data-dir.js'
import type { PersistedRecord } from '../../node/data-dir.js'
import { rec } from './registry-fixtures.js'

describe('DataDir records', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'gv-datadir-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  const a = rec('web', 'a', { tags: ['x'], metadata: { 'k"ey': 'v\n' }, check: { ...DEFAULT_CHECK, kind: 'tcp' } })
  const b = rec('db', 'b', { load: 0.5 })

  it('writes exactly what JSON.stringify would, also after a record changes', () => {
    const list: PersistedRecord[] = [{ record: a, expiresAtMs: 123 }, { record: b, expiresAtMs: 4.5 }]
    expect(encodeRecords(list)).toBe(JSON.stringify(list))
    // a second save reuses the cached text; a changed record (a new object) is encoded afresh
    const a2 = { ...a, port: 9999 }
    const next: PersistedRecord[] = [{ record: a2, expiresAtMs: 124 }, { record: b, expiresAtMs: 4.5 }]
    expect(encodeRecords(next)).toBe(JSON.stringify(next))
    expect(encodeRecords([])).toBe('[]')
  })

  it('reads back what it saved', async () => {
    const d = new DataDir(dir)
    await d.open()
    const list: PersistedRecord[] = [{ record: a, expiresAtMs: 1_000_000 }, { record: b, expiresAtMs: 2_000_000 }]
    await d.saveRecords(list)
    expect(await d.records()).toEqual(list)
  })

  it('reads a damaged file as no records', async () => {
    const d = new DataDir(dir)
    await d.open()
    await writeFile(path.join(dir, 'records.json'), '[{"record":')
    expect(await d.records()).toEqual([])
  })
})
