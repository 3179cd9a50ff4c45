import { status } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { registryService } from '../../node/api/registry-service.js'
import type { RegistryServiceComponents } from '../../node/api/registry-service.js'
import { StorageError } from '../../node/errors.js'
import { rec, silentLogger } from './registry-fixtures.js'

// Deregister and SetMaintenance answer only once the change is on disk (a crash right after must not bring
// the instance back, nor serve a drained one again)

type Cb = (err: any, res: any) => void
type Handler = (call: any, cb: Cb) => void

/** A disk whose write completes when the test says so. */
function heldDisk (): { durable: () => Promise<void>, release: () => void } {
  let release!: () => void
  const written = new Promise<void>(resolve => { release = resolve })
  return { durable: async () => { await written }, release: () => { release() } }
}

function handlerOf (name: 'Deregister' | 'SetMaintenance', durable: () => Promise<void>, existed = true): Handler {
  const c = {
    owner: { deregister: () => existed, get: () => rec('web', 'a', { status: 'MAINTENANCE' }), annotate: () => true },
    health: { maintenance: () => true },
    logger: silentLogger,
    durable
  } as unknown as RegistryServiceComponents
  return registryService(c)[name] as Handler
}

/** Calls `name` on a held disk: no answer until the write is released, then its one answer. */
async function answersAfterTheWrite (name: 'Deregister' | 'SetMaintenance', request: unknown, existed = true): Promise<any> {
  const disk = heldDisk()
  const answers: unknown[] = []
  handlerOf(name, disk.durable, existed)({ request }, (err, res) => { answers.push(err ?? res) })
  // the handler's every step until it waits for the disk: ticks, not a sleep that could end early
  for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
  expect(answers).toEqual([])
  disk.release()
  await expect.poll(() => answers.length).toBe(1)
  return answers[0]
}

const ref = { service: 'web', instance_id: 'a' }

describe('Deregister, SetMaintenance and the disk', () => {
  it('Deregister answers after the write it waits for, not before', async () => {
    expect(await answersAfterTheWrite('Deregister', ref)).toEqual({ existed: true })
  })

  it('a failed write is UNAVAILABLE, not a success', async () => {
    const handler = handlerOf('Deregister', async () => { throw new StorageError('the data dir could not be written') })
    const err = await new Promise<any>(resolve => { handler({ request: ref }, e => { resolve(e) }) })
    expect(err).toMatchObject({ code: status.UNAVAILABLE, details: 'the data dir could not be written' })
  })

  it('nothing to remove still waits for the disk: a retry after a failed write, or a second call, must not outrun the removal', async () => {
    expect(await answersAfterTheWrite('Deregister', ref, false)).toEqual({ existed: false })
  })

  it('SetMaintenance answers after the write it waits for', async () => {
    expect((await answersAfterTheWrite('SetMaintenance', { ...ref, enabled: true })).instance.status).toBe('MAINTENANCE')
  })
})
