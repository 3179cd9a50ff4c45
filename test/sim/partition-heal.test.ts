import { describe, expect, it } from 'vitest'
import { Simulation } from './simulator.js'

// After a long partition each side holds the other DEAD. On the heal, the pushed tables carry those
// verdicts across: taken as verdicts (not as suspicions, as memberlist's mergeState takes them),
// they made members declare DEAD, by the dozen, members of their own side they reached all along.
// The partition lasts long enough for every verdict to have left the piggyback queues, so none may
// cross as a fresh rumour either.
describe('a long partition heals', () => {
  it.each([1, 2, 3])('without anyone declaring a member of its own side DEAD (seed %i)', async seed => {
    const sim = new Simulation({ seed, members: 8, profile: 'lan' })
    sim.start()
    expect(await sim.runUntil(() => sim.live().length === sim.ids.length && sim.allAlive(), 30_000)).toBeDefined()
    const P = sim.config.probeIntervalMs
    await sim.run(3 * P)
    const sides = [sim.ids.slice(0, 4), sim.ids.slice(4)]
    sim.partition(sides)
    await sim.run(60 * P)
    // both sides reached their verdicts on the other
    expect(sim.swim('m0').table.get('m7')?.state).toBe('DEAD')
    sim.heal()
    const at = sim.now
    await sim.run(60 * P)
    const side = new Map(sides.flatMap((ids, k) => ids.map(id => [id, k] as const)))
    const ownSide = sim.events.filter(e => e.t >= at && e.state === 'DEAD' && side.get(e.observer) === side.get(e.subject))
    expect(ownSide.map(e => `${e.observer} declared ${e.subject} DEAD at +${e.t - at} ms`)).toEqual([])
    expect(sim.allAlive()).toBe(true)
    sim.stop()
  })
})
