/**
 * Failure detection end to end: five real node processes (test profile),
 * killed with SIGKILL, frozen with SIGSTOP, and partitioned through their
 * test-only fault files. Waits are deadlines on conditions, never timings.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../cluster/launcher.js'
import { freeBasePort } from '../../cluster/free-ports.js'
import { waitFor } from '../../cluster/wait.js'
import { calls, stateOf } from '../helpers/cluster-calls.js'

const BOUND_MS = 20_000
let cluster: LocalCluster
let dir = ''

async function seenEverywhere (subject: number, state: string, observers: number[]): Promise<void> {
  await waitFor(async () => {
    const seen = await Promise.all(observers.map(async o => (await stateOf(cluster, o, subject))?.state))
    return seen.every(s => s === state)
  }, { timeoutMs: BOUND_MS, intervalMs: 50, message: `n${subject} ${state} at ${observers.map(o => `n${o}`).join(',')}` })
}

const all = [1, 2, 3, 4, 5]
const except = (...ns: number[]): number[] => all.filter(i => !ns.includes(i))

describe('failure detection with real processes', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'grapevine-e2e-failure-'))
    cluster = new LocalCluster({ nodes: 5, dir, basePort: await freeBasePort(7650, 10), profile: 'test', cluster: 'e2e-failure', faults: true })
    await cluster.start({ timeoutMs: 60_000 })
    cluster.heal()
  }, 90_000)

  afterAll(async () => {
    await cluster?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('SIGKILL: the member is DEAD at every survivor; restarted, it is ALIVE again with a higher incarnation', async () => {
    const before = (await stateOf(cluster, 1, 4))!.incarnation
    await cluster.kill(4, 'SIGKILL')
    await seenEverywhere(4, 'DEAD', except(4))
    await cluster.restart(4)
    await seenEverywhere(4, 'ALIVE', except(4))
    expect((await stateOf(cluster, 1, 4))!.incarnation).toBeGreaterThan(before)
  })

  it('SIGSTOP: DEAD everywhere and its instances out of healthy answers; after SIGCONT it refutes and they are back', async () => {
    await calls(cluster, 3).register('frozen', 'f1')
    await waitFor(async () => (await calls(cluster, 1).discover('frozen')).length === 1, { timeoutMs: BOUND_MS, message: 'f1 on n1' })
    const before = (await stateOf(cluster, 1, 3))!.incarnation
    await cluster.kill(3, 'SIGSTOP')
    try {
      await seenEverywhere(3, 'DEAD', except(3))
      expect(await calls(cluster, 1).discover('frozen')).toEqual([])
    } finally {
      await cluster.kill(3, 'SIGCONT')
    }
    await seenEverywhere(3, 'ALIVE', all)
    // it heard it was DEAD and refuted with a higher incarnation
    expect((await stateOf(cluster, 1, 3))!.incarnation).toBeGreaterThan(before)
    await waitFor(async () => (await Promise.all(except(3).map(async i => (await calls(cluster, i).discover('frozen')).length))).every(n => n === 1),
      { timeoutMs: BOUND_MS, message: 'f1 served again everywhere' })
  })

  it('partition: both sides go on and see the other DEAD; healed, one member table and one view again', async () => {
    cluster.partition([[1, 2, 3], [4, 5]])
    try {
      for (const s of [4, 5]) await seenEverywhere(s, 'DEAD', [1, 2, 3])
      for (const s of [1, 2, 3]) await seenEverywhere(s, 'DEAD', [4, 5])
      // each side keeps serving writes and reads among itself
      await calls(cluster, 1).register('split', 'left-side')
      await calls(cluster, 5).register('split', 'right-side')
      await waitFor(async () => (await calls(cluster, 3).discover('split')).some(i => i.instance_id === 'left-side'), { timeoutMs: BOUND_MS, message: 'left-side on n3' })
      await waitFor(async () => (await calls(cluster, 4).discover('split')).some(i => i.instance_id === 'right-side'), { timeoutMs: BOUND_MS, message: 'right-side on n4' })
      expect((await calls(cluster, 3).discover('split')).some(i => i.instance_id === 'right-side')).toBe(false)
    } finally {
      cluster.heal()
    }
    for (const s of all) await seenEverywhere(s, 'ALIVE', all)
    await waitFor(async () => {
      const st = await Promise.all(all.map(async i => await calls(cluster, i).status()))
      const split = await Promise.all(all.map(async i => (await calls(cluster, i).discover('split')).length))
      return st.every(s => s.digest === st[0].digest) && split.every(n => n === 2)
    }, { timeoutMs: BOUND_MS, message: 'equal digests and both sides\' instances everywhere' })
  })
})
