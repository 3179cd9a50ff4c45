import { describe, it, expect } from 'vitest'
import { PROFILES, createConfig, isProfileName, type NodeConfig, type ProfileName } from '../../node/config.js'
import { InvalidConfigError } from '../../node/errors.js'

/** The field an InvalidConfigError names. */
function badField (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError)
    const e = err as InvalidConfigError
    expect(e.name).toBe('InvalidConfigError')
    expect(e.message.startsWith(`${e.field}: `)).toBe(true)
    return e.field
  }
  throw new Error('no InvalidConfigError thrown')
}

const NAMES: ProfileName[] = ['local', 'lan', 'wan', 'test']

describe('createConfig', () => {
  it('has exactly the four presets', () => {
    expect(Object.keys(PROFILES).sort()).toEqual([...NAMES].sort())
  })

  it.each(NAMES)('preset %s passes validation unchanged', name => {
    expect(isProfileName(name)).toBe(true)
    const c = createConfig(name)
    expect(c).toEqual(PROFILES[name])
    expect(c).not.toBe(PROFILES[name])
    expect(c.probeTimeoutMs).toBeLessThan(c.probeIntervalMs)
  })

  it('defaults to lan', () => {
    expect(createConfig()).toEqual(PROFILES.lan)
  })

  it('returns a copy: changing it leaves the preset alone', () => {
    const c = createConfig('test')
    c.probeIntervalMs = 12345
    expect(PROFILES.test.probeIntervalMs).not.toBe(12345)
    expect(createConfig('test').probeIntervalMs).toBe(PROFILES.test.probeIntervalMs)
  })

  it.each<[string, Partial<NodeConfig>]>([
    ['slower probes', { probeIntervalMs: 2000, probeTimeoutMs: 1999 }],
    ['no indirect checks', { indirectChecks: 0 }],
    ['gossip on the next tick', { gossipBatchMs: 0 }],
    ['minimum multipliers', { suspicionMult: 1, suspicionMaxTimeoutMult: 1, awarenessMaxMultiplier: 1 }],
    ['one op per batch', { gossipBatchMaxOps: 1, watchQueueMax: 1 }]
  ])('accepts valid overrides: %s', (_n, overrides) => {
    expect(createConfig('lan', overrides)).toEqual({ ...PROFILES.lan, ...overrides })
  })

  it.each<[string, ProfileName, Record<string, unknown>, string]>([
    ['probe timeout equal to the interval', 'lan', { probeTimeoutMs: 1000 }, 'probeTimeoutMs'],
    ['probe timeout above the interval', 'lan', { probeTimeoutMs: 1500 }, 'probeTimeoutMs'],
    ['probe interval below the preset timeout', 'wan', { probeIntervalMs: 3000 }, 'probeTimeoutMs'],
    ['both zero', 'test', { probeIntervalMs: 0, probeTimeoutMs: 0 }, 'probeTimeoutMs'],
    ['dead members forgotten before they are reaped', 'lan', { deadMemberKeepMs: 60_000 }, 'deadMemberKeepMs'],
    ['a reap longer than dead members are kept', 'test', { ownerReapMs: 60_000 }, 'deadMemberKeepMs'],
    ['negative probe interval', 'lan', { probeIntervalMs: -1 }, 'probeIntervalMs'],
    ['negative suspicion timeout', 'lan', { refusedSuspicionMs: -300 }, 'refusedSuspicionMs'],
    ['negative retransmit mult', 'local', { retransmitMult: -4 }, 'retransmitMult'],
    ['negative keep time', 'lan', { deadMemberKeepMs: -0.5 }, 'deadMemberKeepMs'],
    ['negative indirect checks', 'lan', { indirectChecks: -1 }, 'indirectChecks'],
    ['NaN', 'lan', { probeIntervalMs: NaN }, 'probeIntervalMs'],
    ['NaN elsewhere', 'wan', { antiEntropyIntervalMs: NaN }, 'antiEntropyIntervalMs'],
    ['Infinity', 'lan', { ownerReapMs: Infinity }, 'ownerReapMs'],
    ['a string', 'lan', { gossipBatchMs: '5' }, 'gossipBatchMs'],
    ['null', 'lan', { maxPiggyback: null }, 'maxPiggyback'],
    ['undefined', 'lan', { joinRetryMs: undefined }, 'joinRetryMs'],
    ['unknown field', 'lan', { probeIntervallMs: 1000 }, 'probeIntervallMs'],
    ['fractional indirect checks', 'lan', { indirectChecks: 1.5 }, 'indirectChecks'],
    ['suspicion mult below 1', 'lan', { suspicionMult: 0.5 }, 'suspicionMult'],
    ['suspicion max mult 0', 'lan', { suspicionMaxTimeoutMult: 0 }, 'suspicionMaxTimeoutMult'],
    ['awareness 0', 'lan', { awarenessMaxMultiplier: 0 }, 'awarenessMaxMultiplier'],
    ['empty gossip batches', 'lan', { gossipBatchMaxOps: 0 }, 'gossipBatchMaxOps'],
    ['no watch queue', 'lan', { watchQueueMax: 0 }, 'watchQueueMax']
  ])('rejects %s', (_n, profile, overrides, field) => {
    expect(badField(() => createConfig(profile, overrides as Partial<NodeConfig>))).toBe(field)
  })

  it.each(['prod', 'LAN', 'toString', '__proto__', ''])('rejects the unknown profile %j', name => {
    expect(isProfileName(name)).toBe(false)
    expect(badField(() => createConfig(name as ProfileName))).toBe('profile')
  })
})
