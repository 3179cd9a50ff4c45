import { describe, expect, it } from 'vitest'
import { DEFAULT_CHECK } from '../../../node/health/check-spec.js'
import type { CheckSpec, InitialStatus } from '../../../node/health/check-spec.js'
import { initialHealth, nextHealth, shouldDeregister } from '../../../node/health/state-machine.js'
import type { CheckEvent, HealthState } from '../../../node/health/state-machine.js'

function spec (over: Partial<CheckSpec> = {}): CheckSpec {
  return { ...DEFAULT_CHECK, kind: 'http', http: { path: '/', method: 'GET', expectedStatus: 0, headers: {} }, ...over }
}

// P: pass, W: warning (429), F: failure, w: ok:false with warning:true (warning wins)
const RESULT: Record<string, CheckEvent> = {
  P: { type: 'result', ok: true, output: 'pass' },
  W: { type: 'result', ok: true, warning: true, output: 'warn' },
  w: { type: 'result', ok: false, warning: true, output: 'warn' },
  F: { type: 'result', ok: false, output: 'fail' }
}
const LETTER = { PASSING: 'P', WARNING: 'W', CRITICAL: 'C', MAINTENANCE: 'M' } as const

/** Feeds one result per second and returns the published status after each as letters. */
function run (s: CheckSpec, inputs: string, start?: HealthState): { statuses: string, state: HealthState } {
  let state = start ?? initialHealth(s, 0)
  let statuses = ''
  for (let i = 0; i < inputs.length; i++) {
    state = nextHealth(state, RESULT[inputs[i]], (i + 1) * 1000, s)
    statuses += LETTER[state.status]
  }
  return { statuses, state }
}

describe('nextHealth: results', () => {
  it.each<{ name: string, initial: InitialStatus, f: number, s: number, inputs: string, expected: string }>([
    { name: 'failures below the threshold keep it served', initial: 'PASSING', f: 3, s: 1, inputs: 'FFPFF', expected: 'PPPPP' },
    { name: 'the third consecutive failure makes it critical', initial: 'PASSING', f: 3, s: 1, inputs: 'FFFF', expected: 'PPCC' },
    { name: 'a pass resets the failure streak', initial: 'PASSING', f: 3, s: 1, inputs: 'FFPFFF', expected: 'PPPPPC' },
    { name: 'threshold 1 follows every result', initial: 'PASSING', f: 1, s: 1, inputs: 'FPFP', expected: 'CPCP' },
    { name: 'critical needs s consecutive successes', initial: 'CRITICAL', f: 2, s: 3, inputs: 'PPFPPP', expected: 'CCCCCP' },
    { name: 'flapping never reaches the failure threshold', initial: 'PASSING', f: 2, s: 2, inputs: 'PFPFPFPF', expected: 'PPPPPPPP' },
    { name: 'flapping never reaches the success threshold', initial: 'CRITICAL', f: 2, s: 2, inputs: 'PFPFPFPF', expected: 'CCCCCCCC' },
    { name: 'down then up with both thresholds', initial: 'PASSING', f: 2, s: 2, inputs: 'FFPPFFP', expected: 'PCCPPCC' },
    { name: 'a served instance follows warnings at once', initial: 'PASSING', f: 3, s: 1, inputs: 'WPW', expected: 'WPW' },
    { name: 'warning wins over ok:false', initial: 'PASSING', f: 1, s: 1, inputs: 'wP', expected: 'WP' },
    { name: 'warnings count as successes out of critical', initial: 'CRITICAL', f: 3, s: 2, inputs: 'WWP', expected: 'CWP' },
    { name: 'the result that reaches s decides passing or warning', initial: 'CRITICAL', f: 3, s: 2, inputs: 'PW', expected: 'CW' },
    { name: 'failures from warning need the threshold too', initial: 'WARNING', f: 2, s: 1, inputs: 'FFP', expected: 'WCP' },
    { name: 'a failure streak stays warning until the threshold', initial: 'PASSING', f: 3, s: 1, inputs: 'WFFF', expected: 'WWWC' },
    { name: 'a warning resets the failure streak', initial: 'PASSING', f: 3, s: 1, inputs: 'FFWFF', expected: 'PPWWW' },
    { name: 'initial critical with s = 1 passes on the first success', initial: 'CRITICAL', f: 3, s: 1, inputs: 'P', expected: 'P' }
  ])('$name: $initial f=$f s=$s $inputs → $expected', ({ initial, f, s, inputs, expected }) => {
    expect(run(spec({ initialStatus: initial, failureThreshold: f, successThreshold: s }), inputs).statuses).toBe(expected)
  })

  it.each([
    { inputs: 'PPFF', ok: 0, fail: 2, output: 'fail' },
    { inputs: 'FFWP', ok: 2, fail: 0, output: 'pass' },
    { inputs: 'FFFW', ok: 1, fail: 0, output: 'warn' }
  ])('counts streaks: $inputs → ok $ok fail $fail', ({ inputs, ok, fail, output }) => {
    const { state } = run(spec(), inputs)
    expect(state).toMatchObject({ consecutiveOk: ok, consecutiveFail: fail, lastOutput: output })
  })

  it('does not mutate the state it is given', () => {
    const s = spec({ failureThreshold: 1 })
    const before = initialHealth(s, 0)
    const copy = { ...before }
    const after = nextHealth(before, RESULT.F, 5, s)
    expect(before).toEqual(copy)
    expect(after.status).toBe('CRITICAL')
  })

  it('stamps criticalSinceMs when it becomes critical, keeps it while critical, clears it when served', () => {
    const s = spec({ failureThreshold: 2, successThreshold: 1 })
    let st = initialHealth(s, 0)
    expect(st.criticalSinceMs).toBeNull()
    st = nextHealth(st, RESULT.F, 100, s)
    expect(st.criticalSinceMs).toBeNull()
    st = nextHealth(st, RESULT.F, 200, s)
    expect(st.criticalSinceMs).toBe(200)
    st = nextHealth(st, RESULT.F, 300, s)
    expect(st.criticalSinceMs).toBe(200)
    st = nextHealth(st, RESULT.P, 400, s)
    expect(st.criticalSinceMs).toBeNull()
  })

  it.each<{ initial: InitialStatus, since: number | null }>([
    { initial: 'PASSING', since: null },
    { initial: 'WARNING', since: null },
    { initial: 'CRITICAL', since: 42 }
  ])('initialHealth($initial) starts the critical clock: $since', ({ initial, since }) => {
    const st = initialHealth(spec({ initialStatus: initial }), 42)
    expect(st).toEqual({
      status: initial, checkStatus: initial, reportedStatus: null, unconfirmed: false, consecutiveOk: 0, consecutiveFail: 0,
      criticalSinceMs: since, maintenance: false, lastOutput: ''
    })
  })
})

describe('nextHealth: maintenance', () => {
  const s = spec({ failureThreshold: 3, successThreshold: 2 })
  const on: CheckEvent = { type: 'maintenance', enabled: true }
  const off: CheckEvent = { type: 'maintenance', enabled: false }

  it.each<{ name: string, initial: InitialStatus, during: string, after: string }>([
    { name: 'returns to passing', initial: 'PASSING', during: '', after: 'PASSING' },
    { name: 'keeps counting failures underneath', initial: 'PASSING', during: 'FFF', after: 'CRITICAL' },
    { name: 'keeps counting successes underneath', initial: 'CRITICAL', during: 'PP', after: 'PASSING' },
    { name: 'below the success threshold stays critical', initial: 'CRITICAL', during: 'P', after: 'CRITICAL' },
    { name: 'a warning underneath comes back as warning', initial: 'PASSING', during: 'W', after: 'WARNING' }
  ])('$name: $initial, $during while drained → $after', ({ initial, during, after }) => {
    const sp = { ...s, initialStatus: initial }
    let st = nextHealth(initialHealth(sp, 0), on, 1, sp)
    expect(st).toMatchObject({ status: 'MAINTENANCE', maintenance: true, criticalSinceMs: null })
    for (const c of during) {
      st = nextHealth(st, RESULT[c], 2, sp)
      expect(st.status).toBe('MAINTENANCE')
    }
    st = nextHealth(st, off, 10_000, sp)
    expect(st.status).toBe(after)
    expect(st.maintenance).toBe(false)
    // leaving maintenance restarts the deregistration clock
    expect(st.criticalSinceMs).toBe(after === 'CRITICAL' ? 10_000 : null)
  })

  it('overrides reported statuses until disabled', () => {
    let st = nextHealth(initialHealth(s, 0), on, 1, s)
    st = nextHealth(st, { type: 'reported', status: 'WARNING' }, 2, s)
    expect(st.status).toBe('MAINTENANCE')
    st = nextHealth(st, off, 3, s)
    expect(st.status).toBe('WARNING')
  })

  it.each([
    { name: 'enabling twice', first: true, second: true },
    { name: 'disabling when not enabled', first: false, second: false }
  ])('$name changes nothing', ({ first, second }) => {
    const a = nextHealth(initialHealth(s, 0), { type: 'maintenance', enabled: first }, 1, s)
    const b = nextHealth(a, { type: 'maintenance', enabled: second }, 2, s)
    expect(b).toBe(a)
  })
})

describe('nextHealth: reported, TTL check (the reports are the check)', () => {
  const s: CheckSpec = { ...DEFAULT_CHECK, failureThreshold: 3, successThreshold: 3 }

  it.each<{ name: string, initial: InitialStatus, reported: 'PASSING' | 'WARNING' | 'CRITICAL', then: string, expected: string }>([
    { name: 'critical applies without damping', initial: 'PASSING', reported: 'CRITICAL', then: '', expected: 'CRITICAL' },
    { name: 'passing applies without the success threshold', initial: 'CRITICAL', reported: 'PASSING', then: '', expected: 'PASSING' },
    { name: 'warning applies at once', initial: 'PASSING', reported: 'WARNING', then: '', expected: 'WARNING' },
    { name: 'after reported critical, recovery needs s successes', initial: 'PASSING', reported: 'CRITICAL', then: 'PP', expected: 'CRITICAL' },
    { name: 'after reported critical, s successes recover', initial: 'PASSING', reported: 'CRITICAL', then: 'PPP', expected: 'PASSING' },
    { name: 'an active result overrides a reported warning', initial: 'PASSING', reported: 'WARNING', then: 'P', expected: 'PASSING' }
  ])('$name', ({ initial, reported, then, expected }) => {
    const sp = { ...s, initialStatus: initial }
    let st = nextHealth(initialHealth(sp, 0), { type: 'reported', status: reported }, 1, sp)
    expect(st.lastOutput).toContain(reported)
    for (const c of then) st = nextHealth(st, RESULT[c], 2, sp)
    expect(st.status).toBe(expected)
  })

  it('reported passing restarts the failure streak', () => {
    let st = run(s, 'FF').state
    expect(st.consecutiveFail).toBe(2)
    st = nextHealth(st, { type: 'reported', status: 'PASSING' }, 10, s)
    st = nextHealth(st, RESULT.F, 11, s)
    expect(st.status).toBe('PASSING')
    expect(st.consecutiveFail).toBe(1)
  })

  it('ignores a reported MAINTENANCE: only SetMaintenance drains', () => {
    const st = initialHealth(s, 0)
    expect(nextHealth(st, { type: 'reported', status: 'MAINTENANCE' }, 1, s)).toBe(st)
  })
})

describe('nextHealth: reported beside an active check (the worse of the two)', () => {
  const s = spec({ failureThreshold: 3, successThreshold: 2 })
  const report = (st: HealthState, status: 'PASSING' | 'WARNING' | 'CRITICAL', at: number): HealthState => nextHealth(st, { type: 'reported', status }, at, s)

  it('a reported PASSING neither hides a failing check nor restarts its failure streak', () => {
    let st = run(s, 'FF').state
    st = report(st, 'PASSING', 10)
    st = nextHealth(st, RESULT.F, 11, s)
    expect(st).toMatchObject({ status: 'CRITICAL', consecutiveFail: 3, criticalSinceMs: 11 })
    st = report(st, 'PASSING', 12)
    expect(st.status).toBe('CRITICAL')
  })

  it('a reported CRITICAL or WARNING applies at once over a passing check, until a better report', () => {
    let st = run(s, 'PP').state
    st = report(st, 'CRITICAL', 10)
    expect(st).toMatchObject({ status: 'CRITICAL', checkStatus: 'PASSING', criticalSinceMs: 10 })
    st = nextHealth(st, RESULT.P, 11, s)
    expect(st.status).toBe('CRITICAL')
    st = report(st, 'WARNING', 12)
    expect(st).toMatchObject({ status: 'WARNING', criticalSinceMs: null })
    st = report(st, 'PASSING', 13)
    expect(st.status).toBe('PASSING')
  })
})

describe('shouldDeregister', () => {
  const MIN = 60_000

  it.each<{ name: string, after: number, inputs: string, now: number, expected: boolean }>([
    // results come at 1 s, 2 s, ...: with f = 1 the first F makes it critical at 1000
    { name: 'never when 0', after: 0, inputs: 'F', now: 1e12, expected: false },
    { name: 'not at exactly the limit', after: MIN, inputs: 'F', now: 1000 + MIN, expected: false },
    { name: 'just past the limit', after: MIN, inputs: 'F', now: 1001 + MIN, expected: true },
    { name: 'staying critical keeps the first stamp', after: MIN, inputs: 'FFFF', now: 1001 + MIN, expected: true },
    { name: 'never while passing', after: MIN, inputs: 'P', now: 1e12, expected: false },
    { name: 'never while warning', after: MIN, inputs: 'W', now: 1e12, expected: false },
    { name: 'recovery restarts the clock', after: MIN, inputs: 'FPF', now: 1001 + MIN, expected: false },
    { name: 'recovery then critical long enough', after: MIN, inputs: 'FPF', now: 3001 + MIN, expected: true }
  ])('$name', ({ after, inputs, now, expected }) => {
    const s = spec({ failureThreshold: 1, successThreshold: 1, deregisterCriticalAfterMs: after })
    expect(shouldDeregister(run(s, inputs).state, now, s)).toBe(expected)
  })

  it('reaps an instance that starts critical and never passes', () => {
    const s = spec({ initialStatus: 'CRITICAL', deregisterCriticalAfterMs: MIN })
    const st = initialHealth(s, 5000)
    expect(shouldDeregister(st, 5000 + MIN, s)).toBe(false)
    expect(shouldDeregister(st, 5001 + MIN, s)).toBe(true)
  })

  it('never during maintenance, and counts afresh after it', () => {
    const s = spec({ failureThreshold: 1, deregisterCriticalAfterMs: MIN })
    let st = run(s, 'F').state
    st = nextHealth(st, { type: 'maintenance', enabled: true }, 2000, s)
    expect(shouldDeregister(st, 10 * MIN, s)).toBe(false)
    st = nextHealth(st, { type: 'maintenance', enabled: false }, 10 * MIN, s)
    expect(st.status).toBe('CRITICAL')
    expect(shouldDeregister(st, 11 * MIN, s)).toBe(false)
    expect(shouldDeregister(st, 11 * MIN + 1, s)).toBe(true)
  })
})
