import { describe, expect, it } from 'vitest'
import type { ProfileName } from '../../node/config.js'
import { SCENARIOS, replayCommand, runScenario } from './scenarios.js'
import type { RunSpec } from './scenarios.js'

// A fixed sample, run on every `npm test`; `npm run sim -- --seeds 1000` hunts more widely.
// Seeds 3 and 17 once replayed lossy-pause's residual false DEAD (5 members, lan): the refutation
// was lost on every path to one accuser (relayed probes did not carry the suspicion, indirect
// answers waited for the slowest via). Any change to the core reshuffles every run, so a seed here
// may turn red: replay it with the printed command; a broken invariant is a real finding, not
// flakiness.
const PROFILES: readonly ProfileName[] = ['lan', 'test']
const SEEDS_BY_SIZE: ReadonlyArray<readonly [members: number, seeds: readonly number[]]> = [[5, [1, 2, 3, 4, 5, 17]], [20, [1, 2]]]

async function check (spec: RunSpec): Promise<void> {
  const r = await runScenario(spec)
  // the message names every broken invariant and the command that replays the run
  expect(r.violations.map(v => `${v.invariant}: ${v.message}`), `replay: ${replayCommand(spec)}`).toEqual([])
}

describe.each(SCENARIOS.map(s => s.name))('%s', scenario => {
  const cases = PROFILES.flatMap(profile => SEEDS_BY_SIZE.flatMap(([members, seeds]) => seeds.map(seed => ({ scenario, seed, members, profile }))))
  it.each(cases)('seed $seed, $members members, $profile', async spec => {
    await check(spec)
  })
})

describe('a 100-member cluster', () => {
  it('detects crashes everywhere within the bound', async () => {
    await check({ scenario: 'crash', seed: 1, members: 100, profile: 'lan' })
  })
})
