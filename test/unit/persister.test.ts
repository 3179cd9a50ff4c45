import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Persister } from '../../node/persister.js'
import { RecordStore } from '../../node/record-store.js'
import type { PersistedRecord } from '../../node/record-store.js'
import { rec, silentLogger } from './registry-fixtures.js'

describe('Persister', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'gv-persister-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  // the owner's records, as LocalOwner.persisted/persistable would give them
  function setup (): { owned: Map<string, PersistedRecord>, persister: Persister, store: RecordStore, journal: () => Promise<string[]> } {
    const owned = new Map<string, PersistedRecord>()
    const store = new RecordStore(dir)
    const persister = new Persister(store, { entry: k => owned.get(k) ?? null, all: () => [...owned.values()] }, silentLogger, 60_000)
    const journal = async (): Promise<string[]> => (await readFile(path.join(dir, 'records.journal'), 'utf8')).split('\n').filter(l => l !== '').slice(1)
    return { owned, persister, store, journal }
  }

  it('rewrites everything on its first write, then appends only the keys noted since', async () => {
    const { owned, persister, journal } = setup()
    for (const id of ['a', 'b', 'c']) {
      owned.set(`web/${id}`, { record: rec('web', id), expiresAtMs: 1000 })
      persister.schedule(`web/${id}`)
    }
    await persister.flush()
    expect(await journal()).toEqual([])
    owned.delete('web/a')
    persister.schedule('web/a')
    owned.set('web/b', { record: rec('web', 'b', { port: 1 }), expiresAtMs: 2000 })
    persister.schedule('web/b')
    // a renewal of a key also changed is written once, with the change
    persister.scheduleLazy('web/b', 60_000)
    owned.set('web/c', { record: owned.get('web/c')!.record, expiresAtMs: 3000 })
    persister.scheduleLazy('web/c', 60_000)
    await persister.flush()
    expect((await journal()).map(l => JSON.parse(l))).toEqual([
      { k: 'web/a' },
      { k: 'web/b', r: JSON.parse(JSON.stringify(rec('web', 'b', { port: 1 }))), e: 2000 },
      { k: 'web/c', e: 3000 }
    ])
    expect(await new RecordStore(dir).load()).toEqual([...owned.values()])
  })

  it('writes within the debounce without a flush', async () => {
    const owned = new Map<string, PersistedRecord>([['web/a', { record: rec('web', 'a'), expiresAtMs: 5 }]])
    const persister = new Persister(new RecordStore(dir), { entry: k => owned.get(k) ?? null, all: () => [...owned.values()] }, silentLogger, 5)
    persister.schedule('web/a')
    await expect.poll(async () => await new RecordStore(dir).load(), { timeout: 2000 }).toEqual([...owned.values()])
  })

  it('after a failed write, rewrites everything on the next one', async () => {
    const { owned, persister, store, journal } = setup()
    owned.set('web/a', { record: rec('web', 'a'), expiresAtMs: 1 })
    persister.schedule('web/a')
    await persister.flush()
    // the folder vanishes under it: the append fails and is logged, the node goes on
    await rm(dir, { recursive: true, force: true })
    owned.set('web/b', { record: rec('web', 'b'), expiresAtMs: 2 })
    persister.schedule('web/b')
    await persister.flush()
    expect(store.needsCompaction).toBe(true)
    await mkdir(dir)
    owned.set('web/c', { record: rec('web', 'c'), expiresAtMs: 3 })
    persister.schedule('web/c')
    await persister.flush()
    expect(await journal()).toEqual([])
    expect(await new RecordStore(dir).load()).toEqual([...owned.values()])
  })
})
