import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createConfig } from '../../node/config.js'
import { PeerUnreachableError } from '../../node/errors.js'
import type { Update } from '../../node/membership/broadcast-queue.js'
import { seededRandom } from '../../node/membership/clock.js'
import type { Member, MemberState } from '../../node/membership/member-table.js'
import { Swim } from '../../node/membership/swim.js'
import { MAX_TABLE_MEMBERS } from '../../node/membership/swim.js'
import type { SwimComponents, Target } from '../../node/membership/swim.js'
import type { SwimAnswer, SwimMessage } from '../../node/membership/swim-codec.js'
import { FakeClock } from '../sim/fake-clock.js'

// How one SWIM core behaves against a scripted wire: the paths that carry a refutation, what it
// takes from a peer's table, and what peers' input may grow.

function member (id: string, state: MemberState = 'ALIVE', incarnation = 0): Member {
  return { id, name: id, grpcAddress: `${id}:7000`, gossipAddress: `${id}:7001`, state, incarnation }
}

/** What the scripted peer answers: an answer after `ms`, or nothing (the caller times out). */
type Script = (to: string, msg: SwimMessage) => { answer: SwimAnswer, ms?: number } | 'silent'

interface Sent { to: string, msg: SwimMessage }

function core (self: string, others: Member[], script: Script, extra: Partial<SwimComponents> = {}): { swim: Swim, clock: FakeClock, sent: Sent[] } {
  const clock = new FakeClock()
  const sent: Sent[] = []
  const transport = {
    request: async (to: Target, msg: SwimMessage, timeoutMs: number): Promise<SwimAnswer> => {
      const id = to.id ?? to.address
      sent.push({ to: id, msg })
      const r = script(id, msg)
      return await new Promise((resolve, reject) => {
        if (r === 'silent') clock.setTimeout(() => { reject(new PeerUnreachableError(`${id}: no answer`, false)) }, timeoutMs)
        else clock.setTimeout(() => { resolve(r.answer) }, r.ms ?? 1)
      })
    }
  }
  const swim = new Swim({ clock, random: seededRandom(1), transport, logger: pino({ level: 'silent' }), ...extra },
    { self: member(self), seeds: [], config: createConfig('lan') })
  swim.mergeTable(others, undefined)
  return { swim, clock, sent }
}

const ack = (updates: Update[] = []): SwimAnswer => ({ t: 'ack', updates, mh: 'x', x: {} })
const about = (m: SwimMessage, id: string): Array<{ state: string, incarnation: number, from?: string }> =>
  m.t === 'push-pull' ? [] : m.updates.filter(u => u.member.id === id).map(u => ({ state: u.member.state, incarnation: u.member.incarnation, from: u.from }))

describe('a relayed probe (ping-req)', () => {
  it('carries the asker\'s suspicion and passes the target\'s refutation back, whatever our queue holds', async () => {
    // the target refutes only when the ping tells it of the suspicion (buddy system)
    const { swim, clock, sent } = core('a', [member('t', 'ALIVE', 1), member('asker')], (to, msg) =>
      to === 't' && about(msg, 't').some(u => u.state === 'SUSPECT') ? { answer: ack([{ member: member('t', 'ALIVE', 1) }]) } : { answer: ack() })
    // we heard the refutation long ago: our queue has sent it as often as it will
    for (let i = 0; i < 8; i++) await swim.handle('asker', { t: 'ping', updates: [], mh: 'x', x: {} })
    const answer = swim.handle('asker', { t: 'ping-req', target: member('t', 'SUSPECT'), updates: [], mh: 'x', x: {} })
    await clock.runFor(10)
    const a = await answer
    expect(about(sent[0].msg, 't')).toEqual([{ state: 'SUSPECT', incarnation: 0, from: 'asker' }])
    expect(a.t).toBe('ack')
    expect(about(a as SwimMessage, 't')).toEqual([{ state: 'ALIVE', incarnation: 1, from: undefined }])
  })
})

describe('an indirect probe', () => {
  it('takes in each via\'s answer as it comes: a refutation does not wait for a silent via', async () => {
    const { swim, clock } = core('a', [member('t'), member('v1'), member('v2')], (to, msg) => {
      if (to === 't') return 'silent'
      if (msg.t === 'ping-req' && to === 'v1') return { answer: ack([{ member: member('t', 'ALIVE', 1) }]), ms: 5 }
      if (msg.t === 'ping-req') return 'silent'
      return { answer: ack() }
    })
    swim.start()
    swim.probeNow('t')
    // the direct probe times out at 300 ms, v1 answers 5 ms after; v2's ping-req would run to 750 ms
    await clock.runFor(400)
    expect(swim.table.get('t')).toMatchObject({ state: 'ALIVE', incarnation: 1 })
    swim.stop()
  })

  it('acked through a via counts as a success for local health (memberlist), not as missed nacks', async () => {
    const { swim, clock } = core('a', [member('t'), member('v1'), member('v2')], (to, msg) => {
      if (to === 't') return 'silent'
      if (msg.t === 'ping-req' && to === 'v2') return 'silent'
      return { answer: ack() }
    })
    swim.start()
    swim.probeNow('t')
    await clock.runFor(1000)
    expect(swim.health).toBe(0)
    expect(swim.table.get('t')?.state).toBe('ALIVE')
    swim.stop()
  })
})

describe('a refutation', () => {
  it('goes straight to the accuser and to whoever passed the rumour on, once per incarnation', async () => {
    const { swim, clock, sent } = core('x', [member('b'), member('c'), member('d')], () => ({ answer: ack() }))
    const rumour = (from: string, incarnation = 0): SwimMessage => ({ t: 'ping', updates: [{ member: member('x', 'SUSPECT', incarnation), from }], mh: 'x', x: {} })
    const refutations = (): string[] => sent.filter(s => about(s.msg, 'x').some(u => u.state === 'ALIVE')).map(s => `${s.to}#${about(s.msg, 'x')[0].incarnation}`).sort()

    await swim.handle('b', rumour('c'))
    await clock.runFor(10)
    expect(swim.me.incarnation).toBe(1)
    expect(refutations()).toEqual(['b#1', 'c#1'])

    // the same stale rumour again, and from a third member that still holds it
    await swim.handle('b', rumour('c'))
    await swim.handle('d', rumour('c'))
    await clock.runFor(10)
    expect(refutations()).toEqual(['b#1', 'c#1', 'd#1'])

    // a suspicion of the new incarnation: refuted again, told again
    await swim.handle('c', rumour('c', 1))
    await clock.runFor(10)
    expect(swim.me.incarnation).toBe(2)
    expect(refutations()).toEqual(['b#1', 'c#1', 'c#2', 'd#1'])
  })
})

describe('a rumour about ourselves', () => {
  it('an ALIVE above our incarnation (an earlier run refuted more often than our start counted) is outbid', async () => {
    const { swim } = core('a', [member('b')], () => ({ answer: ack() }))
    expect(swim.me.incarnation).toBe(0)
    await swim.handle('b', { t: 'ping', updates: [{ member: member('a', 'ALIVE', 5) }], mh: 'x', x: {} })
    expect(swim.me).toMatchObject({ state: 'ALIVE', incarnation: 6 })
    // at or below ours it is only our own news coming back
    await swim.handle('b', { t: 'ping', updates: [{ member: member('a', 'ALIVE', 6) }], mh: 'x', x: {} })
    expect(swim.me.incarnation).toBe(6)
  })
})

describe("a peer's table (push-pull)", () => {
  it('a DEAD of a member we hold ALIVE starts a suspicion, not a verdict; an announced DEAD is a verdict', async () => {
    const { swim } = core('a', [member('b'), member('c'), member('d')], () => ({ answer: ack() }))
    swim.start()
    await swim.handle('c', { t: 'push-pull', members: [member('b', 'DEAD', 0), member('x', 'DEAD', 3)] })
    expect(swim.table.get('b')?.state).toBe('SUSPECT')
    // a member we never saw keeps the verdict: the records pulled for it show as they should
    expect(swim.table.get('x')?.state).toBe('DEAD')
    swim.mergeTable([member('d', 'DEAD', 0)], 'c')
    expect(swim.table.get('d')?.state).toBe('DEAD')
    swim.stop()
  })

  it('takes no new member past MAX_TABLE_MEMBERS', async () => {
    const { swim } = core('a', [], () => ({ answer: ack() }))
    const many = Array.from({ length: MAX_TABLE_MEMBERS }, (_, i) => member(`n${i}`))
    await swim.handle('n0', { t: 'push-pull', members: many })
    expect(swim.table.size).toBe(MAX_TABLE_MEMBERS)
    expect(swim.table.get(`n${MAX_TABLE_MEMBERS - 1}`)).toBeUndefined()
  })
})

describe("what peers' input may grow", () => {
  it('keeps no table-hash difference for a sender not in the table', async () => {
    const { swim } = core('a', [member('b')], () => ({ answer: ack() }))
    const mismatch = (swim as unknown as { mismatch: Map<string, number> }).mismatch
    for (let i = 0; i < 100; i++) await swim.handle(`stranger${i}`, { t: 'ping', updates: [], mh: 'differs', x: {} })
    expect(mismatch.size).toBe(0)
    await swim.handle('b', { t: 'ping', updates: [], mh: 'differs', x: {} })
    expect([...mismatch.keys()]).toEqual(['b'])
  })
})

describe('member ids', () => {
  it('a message naming a member by an id that is not one is refused whole, naming the field', async () => {
    const { swim } = core('a', [member('b')], () => ({ answer: ack() }), { validId: id => id.length === 1 })
    await expect(swim.handle('b', { t: 'ping', updates: [{ member: member('c') }, { member: member('bogus') }], mh: 'x', x: {} }))
      .rejects.toThrow('swim.updates[1].member.id: not a member id')
    expect(swim.table.get('c')).toBeUndefined()
  })
})

describe('after stop', () => {
  it('a suspicion heard while the node leaves starts no timer and gives no verdict', async () => {
    const announced: Member[] = []
    const { swim, clock } = core('a', [member('b', 'ALIVE', 1), member('c')], () => ({ answer: ack() }), { announce: m => { announced.push(m) } })
    swim.start()
    await clock.runFor(100)
    swim.stop()
    await swim.handle('c', { t: 'ping', updates: [{ member: member('b', 'SUSPECT', 1), from: 'c' }], mh: 'x', x: {} })
    expect(clock.pending).toBe(0)
    await clock.runFor(60_000)
    expect(swim.table.get('b')?.state).toBe('ALIVE')
    expect(announced).toEqual([])
  })
})

