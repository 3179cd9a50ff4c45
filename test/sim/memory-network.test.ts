import { describe, expect, it } from 'vitest'
import { PeerUnreachableError } from '../../node/errors.js'
import { seededRandom } from '../../node/membership/clock.js'
import type { SwimMessage } from '../../node/membership/swim-codec.js'
import { FakeClock } from './fake-clock.js'
import { MemoryNetwork } from './memory-network.js'
import type { Endpoint, NetworkOptions } from './memory-network.js'
import { ProcessClock } from './process-clock.js'

const PING: SwimMessage = { t: 'ping', updates: [], mh: 'h', x: {} }

// Two endpoints, a and b; b acks every ping and counts what it handled.
function setup (options: Partial<NetworkOptions> = {}, seed = 1): { clock: FakeClock, net: MemoryNetwork, a: Endpoint, b: Endpoint, handled: string[] } {
  const clock = new FakeClock()
  const net = new MemoryNetwork(clock, seededRandom(seed), options)
  const handled: string[] = []
  const endpoint = (id: string): Endpoint => ({
    id,
    address: `${id}:7001`,
    clock: new ProcessClock(clock),
    handle: async (fromId) => {
      handled.push(`${id}<${fromId}@${clock.now().toFixed(1)}`)
      return { t: 'ack', updates: [], mh: id, x: {} }
    },
    merge: () => {}
  })
  const a = endpoint('a')
  const b = endpoint('b')
  net.attach(a)
  net.attach(b)
  return { clock, net, a, b, handled }
}

// Sends a ping from a to b and runs the clock; returns how the request ended and when.
async function ping (s: ReturnType<typeof setup>, timeoutMs = 100): Promise<{ outcome: string, at: number }> {
  let outcome = 'pending'
  let at = -1
  s.net.transportFor(s.a).request({ id: 'b', address: 'b:7001' }, PING, timeoutMs).then(answer => {
    outcome = answer.t
    at = s.clock.now()
  }, (err: unknown) => {
    outcome = err instanceof PeerUnreachableError ? (err.refused ? 'refused' : 'timeout') : 'other'
    at = s.clock.now()
  })
  await s.clock.runFor(1000)
  return { outcome, at }
}

describe('MemoryNetwork', () => {
  it('answers after two one-way delays within the configured latency', async () => {
    const r = await ping(setup({ minDelayMs: 1, maxDelayMs: 2 }))
    expect(r.outcome).toBe('ack')
    expect(r.at).toBeGreaterThanOrEqual(2)
    expect(r.at).toBeLessThanOrEqual(4)
  })

  it('refuses at once for a crashed process, and times out across a partition or on loss', async () => {
    const crashed = setup()
    crashed.net.crash('b:7001')
    expect((await ping(crashed)).outcome).toBe('refused')

    const cut = setup()
    cut.net.partition([['a'], ['b']])
    expect(await ping(cut)).toEqual({ outcome: 'timeout', at: 100 })
    expect(cut.handled).toEqual([])

    const lossy = setup({ dropRate: 1 })
    expect(await ping(lossy)).toEqual({ outcome: 'timeout', at: 100 })
  })

  it('lets a paused process answer after it resumes, too late for a short timeout', async () => {
    const s = setup({ minDelayMs: 1, maxDelayMs: 1 })
    s.net.pause('b:7001', 300)
    expect(await ping(s, 100)).toEqual({ outcome: 'timeout', at: 100 })
    expect(s.handled).toEqual(['b<a@300.0'])

    const patient = setup({ minDelayMs: 1, maxDelayMs: 1 })
    patient.net.pause('b:7001', 300)
    expect(await ping(patient, 500)).toEqual({ outcome: 'ack', at: 301 })
  })

  it('holds a paused caller\'s timeout and the answer to it until it resumes', async () => {
    const s = setup({ minDelayMs: 1, maxDelayMs: 1 })
    s.clock.setTimeout(() => { s.net.pause('a:7001', 300) }, 0.5)
    // the answer arrived (at 2) before the timeout fell due (at 100): it is acted on first
    expect(await ping(s, 100)).toEqual({ outcome: 'ack', at: 300.5 })
  })

  it('delivers a duplicated request twice', async () => {
    const s = setup({ duplicateRate: 1 })
    expect((await ping(s)).outcome).toBe('ack')
    expect(s.handled).toHaveLength(2)
    expect(s.net.stats.duplicated).toBe(1)
  })

  it('is the same run for the same seed', async () => {
    const once = async (seed: number): Promise<number[]> => {
      const s = setup({ dropRate: 0.3, reorderRate: 0.5, reorderMaxMs: 10 }, seed)
      const times: number[] = []
      for (let i = 0; i < 20; i++) times.push((await ping(s)).at)
      return times
    }
    expect(await once(7)).toEqual(await once(7))
    expect(await once(7)).not.toEqual(await once(8))
  })
})
