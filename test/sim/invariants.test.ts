import { describe, expect, it } from 'vitest'
import type { MemberState } from '../../node/membership/member-table.js'
import { checkAccuracy, checkCompleteness, checkRefutation, firstConvergence, indexPairs, liveAt, quantile, refutationDelays } from './invariants.js'
import type { Life, MemberEvent } from './invariants.js'

// `t observer subject STATE#inc`, observers in generation 0 unless written `m1#1`
function ev (line: string): MemberEvent {
  const [t, o, subject, s] = line.split(' ')
  const [observer, gen = '0'] = o.split('#')
  const [state, inc] = s.split('#')
  return { t: Number(t), observer, gen: Number(gen), subject, state: state as MemberState, incarnation: Number(inc) }
}

const LIVES: Life[] = [
  { id: 'a', gen: 0, startInc: 0, from: 0 },
  { id: 'b', gen: 0, startInc: 0, from: 0 },
  { id: 'c', gen: 0, startInc: 0, from: 0, to: 100 },
  { id: 'c', gen: 1, startInc: 3, from: 200 }
]

describe('liveAt', () => {
  it.each([
    ['c', 50, 0], ['c', 100, undefined], ['c', 150, undefined], ['c', 200, 1], ['a', 1e9, 0]
  ])('%s at %i is generation %s', (id, t, gen) => {
    expect(liveAt(LIVES, id, t)?.gen).toBe(gen)
  })
})

describe('checkAccuracy', () => {
  // [event, violation?]
  it.each([
    ['10 a b DEAD#0', true],
    ['150 a c DEAD#0', false], // c is down
    ['250 a c DEAD#2', false], // about the crashed process, not the restarted one
    ['250 a c DEAD#3', true],
    ['10 a b SUSPECT#0', false]
  ])('%s is a violation: %s', (line, bad) => {
    expect(checkAccuracy([ev(line)], LIVES)).toHaveLength(bad ? 1 : 0)
  })

  it('does not judge verdicts before `from`, nor their echoes after it', () => {
    expect(checkAccuracy(['10 a b DEAD#0', '12 c b DEAD#0'].map(ev), LIVES, 11)).toEqual([])
    expect(checkAccuracy(['10 a b DEAD#0', '12 c b DEAD#1'].map(ev), LIVES, 11)).toHaveLength(1)
  })
})

describe('checkCompleteness', () => {
  const observers = [{ id: 'a', gen: 0 }, { id: 'b', gen: 0 }]
  const crash = { id: 'c', startInc: 0, at: 100, until: 200 }

  it('measures the slowest verdict, counting one held before the crash as at the crash', () => {
    const events = ['50 a c DEAD#0', '60 b c ALIVE#0', '400 b c DEAD#0'].map(ev)
    expect(checkCompleteness(indexPairs(events), crash, observers, 300)).toEqual({ violations: [], maxMs: 300 })
  })

  it.each([
    [['150 a c DEAD#0'], 'b#0 did not declare c DEAD'],
    [['150 a c DEAD#0', '500 b c DEAD#0'], 'took 400 ms'],
    [['150 a c DEAD#0', '150 b c DEAD#0', '180 a c ALIVE#0'], 'brought crashed c back']
  ])('%j: %s', (lines, message) => {
    const r = checkCompleteness(indexPairs(lines.map(ev)), crash, observers, 300)
    expect(r.violations.map(v => v.message).join('\n')).toContain(message)
  })
})

describe('firstConvergence', () => {
  const observers = [{ id: 'a', gen: 0 }, { id: 'b', gen: 0 }]
  const subjects = [{ id: 'a', minInc: 0 }, { id: 'b', minInc: 1 }]
  const base = ['0 a a ALIVE#0', '0 b a ALIVE#0', '0 b b ALIVE#1']

  it.each([
    [[...base, '5 a b ALIVE#1'], 0, 5],
    [[...base, '5 a b ALIVE#0'], 0, undefined], // below the minimum incarnation
    [[...base, '5 a b ALIVE#1'], 9, 9], // converged before `from`: converged at `from`
    [[...base, '5 a b ALIVE#1', '7 a b SUSPECT#1', '7 a b ALIVE#2'], 6, 6],
    [[...base, '5 a b ALIVE#1', '7 a b SUSPECT#1', '8 a b ALIVE#2'], 7, 8]
  ])('%j from %i converges at %s', (lines, from, at) => {
    expect(firstConvergence(lines.map(ev), observers, subjects, from)).toBe(at)
  })
})

describe('checkRefutation', () => {
  // [events, end, violations, suspicions]
  it.each([
    [['10 a b SUSPECT#0', '20 a b ALIVE#1'], 1000, 0, 1],
    [['10 a b SUSPECT#0'], 1000, 1, 1],
    [['10 a b SUSPECT#0'], 50, 0, 1], // younger than the grace period
    [['10 a b SUSPECT#0', '20 a b DEAD#0'], 1000, 0, 1], // accuracy's to report
    [['50 a c SUSPECT#0', '120 a c DEAD#0'], 1000, 0, 1], // c crashed meanwhile
    [['10 a b SUSPECT#0', '11 a b SUSPECT#1', '30 a b ALIVE#2'], 1000, 0, 1]
  ])('%j to %i: %i violations of %i suspicions', (lines, end, violations, suspicions) => {
    const r = checkRefutation(indexPairs(lines.map(ev)), LIVES, end, 100)
    expect(r.violations).toHaveLength(violations)
    expect(r.suspicions).toBe(suspicions)
  })
})

describe('refutationDelays', () => {
  const observers = [{ id: 'a', gen: 0 }, { id: 'b', gen: 0 }]

  it('times each observer that held the paused member SUSPECT or DEAD at its end until it held it ALIVE', () => {
    const events = ['10 a b SUSPECT#0', '120 a b ALIVE#1', '20 b a SUSPECT#0', '30 b a ALIVE#1'].map(ev)
    // a's view of b was refuted 20 ms after b's pause ended; nobody held a suspect when its pause ended
    expect(refutationDelays(indexPairs(events), observers, [{ id: 'b', until: 100 }, { id: 'a', until: 100 }])).toEqual([20])
  })
})

describe('quantile', () => {
  it.each([
    [[], 0.5, 0], [[3, 1, 2], 0.5, 2], [[3, 1, 2], 1, 3], [[1, 2, 3, 4], 0.99, 4], [[5], 0, 5]
  ])('%j at %f is %i', (values, q, want) => {
    expect(quantile(values, q)).toBe(want)
  })
})
