import { PROFILES } from '../../node/config.js'
import type { NodeConfig, ProfileName } from '../../node/config.js'
import { shuffle } from '../../node/membership/clock.js'
import type { Random } from '../../node/membership/clock.js'
import { suspicionMinMs } from '../../node/membership/suspicion.js'
import { checkAccuracy, checkCompleteness, checkRefutation, firstConvergence, indexPairs, pairKey, quantile, refutationDelays } from './invariants.js'
import type { Violation } from './invariants.js'
import type { NetworkOptions, NetworkStats } from './memory-network.js'
import { Simulation } from './simulator.js'

/**
 * How long each invariant may take, from the profile's own timings
 * (P = probeIntervalMs). Generous, so a failure means a real fault, but
 * finite, so a member that is never detected or never heals fails the run.
 */
export interface Bounds {
  /** every member holds every other ALIVE after a cold start */
  readonly joinMs: number
  /** a crashed (refused) member is DEAD at every live member */
  readonly crashMs: number
  /** a hung (SIGSTOPped for good) member is DEAD at every live member */
  readonly hangMs: number
  /** a restarted member is ALIVE, at its new incarnation, everywhere */
  readonly restartMs: number
  /** every member holds every other ALIVE after a partition ends */
  readonly healMs: number
  /** a member that left gracefully is LEFT everywhere */
  readonly leaveMs: number
  /** the quiet time at the end of a run in which every suspicion must be refuted */
  readonly settleMs: number
}

/** The bounds for a cluster of `n` on `config`. */
export function bounds (config: NodeConfig, n: number): Bounds {
  const P = config.probeIntervalMs
  return {
    // seeds are all m0: m0 hears of everyone by push-pull, the rest by piggyback and anti-entropy (hash mismatch)
    joinMs: 20 * P + 5 * config.antiEntropyIntervalMs,
    // refused crash: the first probe by anyone (≤ 2 P of shuffled round robin, ×2 if awareness
    // stretched it) + a direct probe and ping-reqs (2.5 probeTimeouts, refused at once here)
    // + refusedSuspicionMs + dissemination (gossip: ms; piggyback: a few P; anti-entropy for
    // stragglers): about 7 P in all; 10 P leaves room
    crashMs: 10 * P,
    // hung (nothing refuses): the first probe and the probing (a few P) + the suspicion, which only
    // reaches its minimum with enough confirmations; without them it runs to its maximum
    hangMs: 4 * P + config.suspicionMaxTimeoutMult * suspicionMinMs(config.suspicionMult, n, P),
    // a restart may land before the verdict (crashMs) and then needs a reconnect to the DEAD member
    // or a push-pull with the seed, then dissemination
    restartMs: 10 * P + 5 * config.reconnectIntervalMs,
    // each side declared the other DEAD; reconnect (every reconnectIntervalMs) push-pulls with a DEAD
    // member or the seed, the DEAD rumour reaches its subject, which refutes: 15 intervals (lan: 30 s)
    healMs: 15 * config.reconnectIntervalMs,
    // the leaver pings every member directly and announces: one round trip
    leaveMs: P,
    // the longest a suspicion can last (its maximum timeout), after which it must have ended ALIVE
    settleMs: Math.max(10 * P, config.suspicionMaxTimeoutMult * suspicionMinMs(config.suspicionMult, n, P))
  }
}

/** What a scenario found: broken invariants and a few measurements. */
export interface Outcome {
  readonly violations: Violation[]
  readonly metrics: Record<string, number>
}

/** A named fault schedule with the invariants it checks. */
export interface Scenario {
  readonly name: string
  /** one line: the faults and what is checked */
  readonly summary: string
  readonly network: Partial<NetworkOptions>
  readonly run: (sim: Simulation, b: Bounds) => Promise<Outcome>
}

/** One run: which scenario, seed, size and profile. */
export interface RunSpec {
  readonly scenario: string
  readonly seed: number
  readonly members: number
  readonly profile: ProfileName
  /** false: no gossip channel, SWIM's piggybacking alone spreads news (default true, as in production) */
  readonly gossip?: boolean
}

/** The result of one run. */
export interface RunResult extends Outcome {
  readonly spec: RunSpec
  readonly virtualMs: number
  readonly realMs: number
  readonly stats: NetworkStats
}

/** The command that replays one run. */
export function replayCommand (spec: RunSpec): string {
  return `npm run sim -- --seed ${spec.seed} --scenario ${spec.scenario} --members ${spec.members} --profile ${spec.profile}${spec.gossip === false ? ' --gossip off' : ''}`
}

/** `k` distinct items of `list`, chosen by `random`. */
export function pickDistinct<T> (list: readonly T[], k: number, random: Random): T[] {
  return shuffle([...list], random).slice(0, k)
}

// Starts every member and waits until each holds every other ALIVE.
async function form (sim: Simulation, b: Bounds, metrics: Record<string, number>): Promise<Violation[]> {
  sim.start()
  const t = await sim.runUntil(() => sim.live().length === sim.ids.length && sim.allAlive(), b.joinMs)
  if (t === undefined) return [{ invariant: 'join', message: `the cluster did not form: not every member held every other ALIVE within ${b.joinMs} ms` }]
  metrics.joinMs = t
  return []
}

// A few reordered and duplicated messages: the network of the scenarios that test one fault.
const MILD: Partial<NetworkOptions> = { reorderRate: 0.05, reorderMaxMs: 5, duplicateRate: 0.01 }

// A scenario of one fault on a MILD network: the cluster forms and runs 3 periods (every member
// has probed), then `fault` runs and returns what it found; accuracy and refutation are checked after.
function oneFault (name: string, summary: string, fault: (sim: Simulation, b: Bounds, metrics: Record<string, number>) => Promise<Violation[]>): Scenario {
  return {
    name,
    summary,
    network: MILD,
    async run (sim, b) {
      const metrics: Record<string, number> = {}
      const violations = await form(sim, b, metrics)
      if (violations.length > 0) return { violations, metrics }
      await sim.run(3 * sim.config.probeIntervalMs)
      violations.push(...await fault(sim, b, metrics))
      violations.push(...steady(sim, b.settleMs, metrics))
      return { violations, metrics }
    }
  }
}

// Accuracy and refutation over the whole run: the checks every fault but a partition must pass.
function steady (sim: Simulation, graceMs: number, metrics: Record<string, number>): Violation[] {
  const refutation = checkRefutation(indexPairs(sim.events), sim.lives, sim.now, graceMs)
  metrics.suspicions = refutation.suspicions
  metrics.refuteMaxMs = refutation.maxMs
  return [...checkAccuracy(sim.events, sim.lives), ...refutation.violations]
}

const crash = oneFault('crash',
  'crash 1–3 members (refused); completeness: DEAD at every live member within crashMs; accuracy; refutation',
  async (sim, b, metrics) => {
    const violations: Violation[] = []
    const P = sim.config.probeIntervalMs
    const n = sim.ids.length
    const victims = pickDistinct(sim.ids, n <= 5 ? 1 : n <= 20 ? 2 : 3, sim.random)
    const crashes = []
    for (const id of victims) {
      await sim.run(sim.random.next() * 3 * P)
      crashes.push({ id, startInc: sim.life(id).startInc, at: sim.now })
      sim.crash(id)
    }
    await sim.run(b.crashMs + P)
    const index = indexPairs(sim.events)
    // victims that crashed later are left out as observers: they may not have had time to judge
    const observers = sim.observers()
    metrics.detectMaxMs = 0
    for (const c of crashes) {
      const r = checkCompleteness(index, c, observers, b.crashMs)
      violations.push(...r.violations)
      metrics.detectMaxMs = Math.max(metrics.detectMaxMs, r.maxMs)
    }
    return violations
  })

const hang = oneFault('hang',
  'as bench:failure does: 5 rounds of SIGSTOP of a random member until DEAD everywhere, then SIGCONT until all ALIVE; completeness: DEAD at every other member within hangMs; accuracy; refutation',
  async (sim, b, metrics) => {
    const violations: Violation[] = []
    const P = sim.config.probeIntervalMs
    const times: number[] = []
    for (let round = 0; round < 5; round++) {
      // a random phase of every member's probe round
      await sim.run(sim.random.next() * P)
      const [victim] = pickDistinct(sim.ids, 1, sim.random)
      const at = sim.now
      const startInc = sim.swim(victim).me.incarnation
      sim.sigstop(victim)
      const observers = sim.observers()
      const gone = (): boolean => observers.every(o => sim.swim(o.id).table.get(victim)?.state === 'DEAD')
      await sim.runUntil(gone, b.hangMs + P, 10)
      const r = checkCompleteness(indexPairs(sim.events), { id: victim, startInc, at, until: sim.now }, observers, b.hangMs)
      violations.push(...r.violations)
      if (r.violations.length > 0) break
      times.push(r.maxMs)
      sim.sigcont(victim)
      if (await sim.runUntil(() => sim.allAlive(), b.restartMs) === undefined) {
        violations.push({ invariant: 'healing', message: `${victim}, resumed at ${(sim.now / 1000).toFixed(3)}s, was not ALIVE everywhere within ${b.restartMs} ms` })
        break
      }
    }
    // what bench:failure reports: stop → DEAD at every other member
    metrics.hangMedianMs = quantile(times, 0.5)
    metrics.hangMaxMs = Math.max(0, ...times)
    return violations
  })

const restart = oneFault('restart',
  'crash a member and restart it (incarnation+1, same address) after 0.1–6 P; it is ALIVE everywhere within restartMs; accuracy; refutation',
  async (sim, b, metrics) => {
    const violations: Violation[] = []
    const P = sim.config.probeIntervalMs
    const [victim] = pickDistinct(sim.ids, 1, sim.random)
    sim.crash(victim)
    // sometimes before the others' verdict (inside the refused window), sometimes well after
    await sim.run((0.1 + 5.9 * sim.random.next()) * P)
    sim.restart(victim)
    const at = sim.now
    const startInc = sim.life(victim).startInc
    await sim.run(b.restartMs + P)
    const subjects = sim.live().map(id => ({ id, minInc: id === victim ? startInc : 0 }))
    const t = firstConvergence(sim.events, sim.observers(), subjects, at)
    if (t === undefined || t - at > b.restartMs) {
      violations.push({ invariant: 'healing', message: `restarted ${victim} (incarnation ${startInc}) was not ALIVE everywhere, with everyone else, within ${b.restartMs} ms` })
    } else {
      metrics.rejoinMs = t - at
    }
    return violations
  })

const lossyPause: Scenario = {
  name: 'lossy-pause',
  summary: '10% loss each way, duplicates, reordering, one member at a time paused for 2 s (lan; elsewhere the same share of the suspicion minimum); accuracy: nobody is declared DEAD; refutation: every suspicion ends ALIVE',
  network: { dropRate: 0.1, duplicateRate: 0.02, reorderRate: 0.1, reorderMaxMs: 10 },
  async run (sim, b) {
    const metrics: Record<string, number> = {}
    const violations = await form(sim, b, metrics)
    if (violations.length > 0) return { violations, metrics }
    const P = sim.config.probeIntervalMs
    // 2 s on lan, the same share of the suspicion minimum elsewhere: lan's minimum (2.5 s with 5
    // members) is set to outlast 2 s pauses (config.ts), and a much longer pause is a hang
    const n = sim.ids.length
    const pauseMs = 2000 * suspicionMinMs(sim.config.suspicionMult, n, P) / suspicionMinMs(PROFILES.lan.suspicionMult, n, PROFILES.lan.probeIntervalMs)
    // 16 pauses' worth (32 s on lan), whatever the period
    const end = sim.now + 16 * pauseMs
    const pauses: Array<{ id: string, until: number }> = []
    while (sim.now < end) {
      const [id] = pickDistinct(sim.live(), 1, sim.random)
      sim.pause(id, pauseMs)
      pauses.push({ id, until: sim.now + pauseMs })
      await sim.run(pauseMs + (0.5 + 1.5 * sim.random.next()) * P)
    }
    metrics.pauses = pauses.length
    // then a calm network: every open suspicion must be refuted before settleMs is out
    sim.network.configure({ dropRate: 0, duplicateRate: 0, reorderRate: 0 })
    await sim.run(b.settleMs)
    violations.push(...steady(sim, 0, metrics))
    // the slowest refutation counted from the pause's end: what the suspicion minimum must outlast
    metrics.refuteAfterPauseMs = Math.max(0, ...refutationDelays(indexPairs(sim.events), sim.observers(), pauses))
    if (!sim.allAlive()) violations.push({ invariant: 'refutation', message: `not every member holds every other ALIVE ${b.settleMs} ms after the faults stopped` })
    return { violations, metrics }
  }
}

const partition: Scenario = {
  name: 'partition',
  summary: 'split into two sides for 3–30 P, then heal; healing: everyone holds everyone ALIVE within healMs; accuracy once healed',
  network: { reorderRate: 0.05, reorderMaxMs: 5, dropRate: 0.01 },
  async run (sim, b) {
    const metrics: Record<string, number> = {}
    const violations = await form(sim, b, metrics)
    if (violations.length > 0) return { violations, metrics }
    const P = sim.config.probeIntervalMs
    await sim.run(2 * P)
    const order = pickDistinct(sim.ids, sim.ids.length, sim.random)
    const cut = 1 + Math.floor(sim.random.next() * (order.length - 1))
    const sides = [order.slice(0, cut), order.slice(cut)]
    sim.partition(sides)
    const cutAt = sim.now
    metrics.partitionMs = Math.round((3 + 27 * sim.random.next()) * P)
    await sim.run(metrics.partitionMs)
    sim.heal()
    const at = sim.now
    await sim.run(b.healMs + 5 * P)
    const t = firstConvergence(sim.events, sim.observers(), sim.live().map(id => ({ id, minInc: 0 })), at)
    if (t === undefined || t - at > b.healMs) {
      violations.push({ invariant: 'healing', message: `${sim.observers().length} members did not all hold each other ALIVE within ${b.healMs} ms of the partition's end (${(at / 1000).toFixed(3)}s)` })
      return { violations, metrics }
    }
    metrics.healMs = t - at
    if (!sim.allAlive()) violations.push({ invariant: 'healing', message: `healed at ${((t) / 1000).toFixed(3)}s, but not every member holds every other ALIVE at the end` })
    // verdicts during the partition (and their echoes) are expected; once healed, no new ones
    violations.push(...checkAccuracy(sim.events, sim.lives, t))
    // never on one's own side while cut off: each side reached its own members all along. (At the
    // heal, a verdict the other side reached just before may still ride its piggybacks across, and is
    // taken as memberlist takes it, then refuted; that a healing push-pull's table is only a suspicion
    // is partition-heal.test.ts's, with a partition long enough for no verdict to be fresh.)
    const side = new Map(sides.flatMap((ids, k) => ids.map(id => [id, k] as const)))
    for (const e of sim.events) {
      if (e.t < cutAt || e.t >= at || e.state !== 'DEAD' || side.get(e.observer) !== side.get(e.subject)) continue
      violations.push({ invariant: 'accuracy', message: `${e.observer} declared ${e.subject}, on its own side of the partition, DEAD#${e.incarnation} at ${(e.t / 1000).toFixed(3)}s` })
    }
    return { violations, metrics }
  }
}

const leave: Scenario = {
  name: 'leave',
  summary: 'one member leaves gracefully; it is LEFT at every member within leaveMs and never DEAD; accuracy; refutation',
  network: { reorderRate: 0.05, reorderMaxMs: 5 },
  async run (sim, b) {
    const metrics: Record<string, number> = {}
    const violations = await form(sim, b, metrics)
    if (violations.length > 0) return { violations, metrics }
    const P = sim.config.probeIntervalMs
    await sim.run(2 * P)
    const [leaver] = pickDistinct(sim.ids, 1, sim.random)
    const at = sim.now
    sim.leave(leaver)
    await sim.run(b.leaveMs + 5 * P)
    const index = indexPairs(sim.events)
    metrics.leaveMaxMs = 0
    for (const o of sim.observers()) {
      const list = (index.get(pairKey(o, leaver)) ?? []).filter(e => e.t >= at)
      const left = list.find(e => e.state === 'LEFT')
      if (left == null || left.t - at > b.leaveMs) {
        violations.push({ invariant: 'leave', message: `${o.id} did not hold ${leaver} LEFT within ${b.leaveMs} ms of its leave at ${(at / 1000).toFixed(3)}s` })
      } else {
        metrics.leaveMaxMs = Math.max(metrics.leaveMaxMs, left.t - at)
      }
      const dead = list.find(e => e.state === 'DEAD')
      if (dead != null) violations.push({ invariant: 'leave', message: `${o.id} declared ${leaver}, which had left, DEAD at ${(dead.t / 1000).toFixed(3)}s` })
    }
    violations.push(...steady(sim, b.settleMs, metrics))
    return { violations, metrics }
  }
}

/** Every scenario, by name. */
export const SCENARIOS: readonly Scenario[] = [crash, hang, restart, lossyPause, partition, leave]

/** Extras of one run: members' logs, a look at the finished simulation. */
export interface RunOptions {
  readonly logLevel?: string
  /** called with the finished simulation (its event log), before the result is returned */
  readonly inspect?: (sim: Simulation) => void
}

/** Runs one scenario on a fresh cluster; an exception inside counts as a violation. */
export async function runScenario (spec: RunSpec, options: RunOptions = {}): Promise<RunResult> {
  const scenario = SCENARIOS.find(s => s.name === spec.scenario)
  if (scenario == null) throw new Error(`unknown scenario "${spec.scenario}" (one of ${SCENARIOS.map(s => s.name).join(', ')})`)
  const sim = new Simulation({ seed: spec.seed, members: spec.members, profile: spec.profile, network: scenario.network, logLevel: options.logLevel, gossip: spec.gossip })
  const started = performance.now()
  let outcome: Outcome
  try {
    outcome = await scenario.run(sim, bounds(sim.config, spec.members))
  } catch (err) {
    outcome = { violations: [{ invariant: 'error', message: `the run threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}` }], metrics: {} }
  } finally {
    sim.stop()
  }
  options.inspect?.(sim)
  const violations = [...outcome.violations, ...sim.failures().map(message => ({ invariant: 'error' as const, message }))]
  return { spec, violations, metrics: outcome.metrics, virtualMs: sim.now, realMs: performance.now() - started, stats: { ...sim.network.stats } }
}
