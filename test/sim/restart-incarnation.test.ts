import { describe, expect, it } from 'vitest'
import { Simulation } from './simulator.js'

// A restarted node starts one incarnation above its last start (data-dir.ts), not above its last
// refutation: after refutations its start is below what the cluster holds. It must outbid that,
// or its own ALIVE loses to the old one forever and the tables never agree.
describe('a restart after refutations', () => {
  it.each([3, 4, 5])('converges to one table at the restarted node\'s new incarnation (seed %i)', async seed => {
    const sim = new Simulation({ seed, members: 3, profile: 'lan' })
    sim.start()
    await sim.run(1000)
    expect(await sim.runUntil(() => sim.allAlive(), 20_000)).toBeDefined()
    // m2 is suspected twice (two pauses, say) and refutes each time: incarnation 0 → 2
    for (let i = 0; i < 2; i++) {
      const me = sim.swim('m2').me
      await sim.swim('m2').handle('m0', { t: 'ping', updates: [{ member: { ...me, state: 'SUSPECT' }, from: 'm0' }], mh: 'x', x: {} })
      await sim.run(3000)
    }
    expect(sim.swim('m2').me.incarnation).toBe(2)
    sim.restart('m2')
    expect(sim.swim('m2').me.incarnation).toBe(1)
    await sim.run(30_000)
    const held = sim.swim('m0').table.get('m2')
    expect(held).toMatchObject({ state: 'ALIVE', incarnation: sim.swim('m2').me.incarnation })
    expect(new Set(['m0', 'm1', 'm2'].map(id => sim.swim(id).membersHash())).size).toBe(1)
    expect(sim.failures()).toEqual([])
    sim.stop()
  })
})
