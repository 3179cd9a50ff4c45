import { status } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { registryService } from '../../node/api/registry-service.js'
import type { RegistryServiceComponents } from '../../node/api/registry-service.js'
import { StorageError } from '../../node/errors.js'
import { silentLogger } from './registry-fixtures.js'

// Deregister answers only once the removal is on disk (a crash right after must not bring the instance back)
function deregisterWith (durable: () => Promise<void>, existed = true): (cb: (err: any, res: any) => void) => void {
  const c = { owner: { deregister: () => existed }, logger: silentLogger, durable } as unknown as RegistryServiceComponents
  const handler = registryService(c).Deregister as (call: any, cb: (err: any, res: any) => void) => void
  return cb => { handler({ request: { service: 'web', instance_id: 'a' } }, cb) }
}

describe('Deregister and the disk', () => {
  it('answers after the write it waits for, not before', async () => {
    let release!: () => void
    const call = deregisterWith(async () => { await new Promise<void>(resolve => { release = resolve }) })
    const answers: unknown[] = []
    call((err, res) => { answers.push(err ?? res) })
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(answers).toEqual([])
    release()
    await expect.poll(() => answers).toEqual([{ existed: true }])
  })

  it('a failed write is UNAVAILABLE, not a success', async () => {
    const call = deregisterWith(async () => { throw new StorageError('the data dir could not be written') })
    const err = await new Promise<any>(resolve => { call(e => { resolve(e) }) })
    expect(err).toMatchObject({ code: status.UNAVAILABLE, details: 'the data dir could not be written' })
  })

  it('nothing to remove: answered at once, nothing waited for', async () => {
    const call = deregisterWith(async () => await new Promise<void>(() => {}), false)
    const res = await new Promise<any>(resolve => { call((_e, r) => { resolve(r) }) })
    expect(res).toEqual({ existed: false })
  })
})
