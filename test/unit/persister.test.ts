import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { StorageError } from '../../node/errors.js'
import { Persister } from '../../node/persister.js'
import { RecordStore } from '../../node/record-store.js'
import type { PersistedRecord } from '../../node/record-store.js'
import { rec, silentLogger } from './registry-fixtures.js'

describe('Persister', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'gv-persister-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  // the owner's records, as LocalOwner.persisted/persistable would give them
  function setup (debounceMs = 60_000): { owned: Map<string, PersistedRecord>, persister: Persister, store: RecordStore, journal: () => Promise<string[]> } {
    const owned = new Map<string, PersistedRecord>()
    const store = new RecordStore(dir)
    const persister = new Persister(store, { entry: k => owned.get(k) ?? null, all: () => [...owned.values()] }, silentLogger, debounceMs)
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
    const { owned, persister } = setup(5)
    owned.set('web/a', { record: rec('web', 'a'), expiresAtMs: 5 })
    persister.schedule('web/a')
    await expect.poll(async () => await new RecordStore(dir).load(), { timeout: 2000 }).toEqual([...owned.values()])
  })

  it('a change after a wall-clock step forward is written within the debounce, not behind a pending lazy renewal', async () => {
    const { owned, persister } = setup(5)
    owned.set('web/a', { record: rec('web', 'a'), expiresAtMs: 5 })
    persister.scheduleLazy('web/a', 60_000)
    const realNow = Date.now.bind(Date)
    // an hour on: on the wall clock, the change's due time came after the renewal's
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000)
    try {
      owned.set('web/b', { record: rec('web', 'b'), expiresAtMs: 5 })
      persister.schedule('web/b')
      await expect.poll(async () => await new RecordStore(dir).load().catch(() => []), { timeout: 2000 }).toEqual([...owned.values()])
    } finally {
      spy.mockRestore()
      persister.stop()
    }
  })

  it('a flush waits for every change noted before it, also when a write was already under way', async () => {
    const { owned, persister } = setup()
    owned.set('web/a', { record: rec('web', 'a'), expiresAtMs: 1 })
    persister.schedule('web/a')
    const first = persister.flush()
    // noted while the first write (a compaction) is in flight: two flushes wait for it
    owned.set('web/b', { record: rec('web', 'b'), expiresAtMs: 2 })
    persister.schedule('web/b')
    const second = persister.flush()
    owned.set('web/c', { record: rec('web', 'c'), expiresAtMs: 3 })
    persister.schedule('web/c')
    const third = persister.flush()
    await second
    // c may have gone with b's write or may follow; a and b are on disk
    expect((await new RecordStore(dir).load()).map(e => e.record.instanceId)).toEqual(expect.arrayContaining(['a', 'b']))
    await third
    expect((await new RecordStore(dir).load()).map(e => e.record.instanceId)).toEqual(['a', 'b', 'c'])
    await first
  })

  it('a failed write rejects the flush, keeps its keys, and is tried again by itself as a full rewrite', async () => {
    const { owned, persister, store, journal } = setup()
    owned.set('web/a', { record: rec('web', 'a'), expiresAtMs: 1 })
    persister.schedule('web/a')
    await persister.flush()
    // the folder vanishes under it: the append fails, the node goes on, the caller hears of it
    await rm(dir, { recursive: true, force: true })
    owned.set('web/b', { record: rec('web', 'b'), expiresAtMs: 2 })
    persister.schedule('web/b')
    await expect(persister.flush()).rejects.toBeInstanceOf(StorageError)
    expect(store.needsCompaction).toBe(true)
    await mkdir(dir)
    // nothing else changes: the retry (about 1 s later) writes everything
    await expect.poll(async () => await new RecordStore(dir).load().catch(() => []), { timeout: 5000, interval: 100 }).toEqual([...owned.values()])
    expect(await journal()).toEqual([])
    await persister.flush()
  })
})
