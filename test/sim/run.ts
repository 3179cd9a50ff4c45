// The simulation from the command line (`npm run sim -- …`):
//   --seeds K [--from S]                    K seeds of every scenario, a summary, exit 1 on any violation
//   --seed S --scenario X --members N       replay one run (--profile lan|test, default lan)
// Either mode takes --scenario, --members, --profile to narrow the sweep and --gossip off to spread
// news by piggybacking alone; a replay also takes --log LEVEL (the members' logs, virtual time in
// `vt`) and --trace ID (every table change about member ID).
import { isProfileName } from '../../node/config.js'
import type { ProfileName } from '../../node/config.js'
import { quantile } from './invariants.js'
import { SCENARIOS, replayCommand, runScenario } from './scenarios.js'
import type { RunResult, RunSpec } from './scenarios.js'
import type { Simulation } from './simulator.js'

interface Args {
  seeds?: number
  from: number
  seed?: number
  scenario?: string
  members?: number
  profile?: ProfileName
  log?: string
  trace?: string
  gossip: boolean
}

/** Parses `--name value` pairs; throws on anything else. */
function parseArgs (argv: readonly string[]): Args {
  const args: Args = { from: 1, gossip: true }
  const int = (name: string, v: string | undefined): number => {
    const n = Number(v)
    if (v === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number, got ${String(v)}`)
    return n
  }
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]]
    switch (flag) {
      case '--seeds': args.seeds = int('seeds', value); break
      case '--from': args.from = int('from', value); break
      case '--seed': args.seed = int('seed', value); break
      case '--members': args.members = int('members', value); break
      case '--scenario':
        if (!SCENARIOS.some(s => s.name === value)) throw new Error(`--scenario: one of ${SCENARIOS.map(s => s.name).join(', ')}`)
        args.scenario = value
        break
      case '--profile':
        if (value === undefined || !isProfileName(value)) throw new Error('--profile: one of lan, test, local, wan')
        args.profile = value
        break
      case '--gossip':
        if (value !== 'on' && value !== 'off') throw new Error('--gossip: on or off')
        args.gossip = value === 'on'
        break
      case '--log': args.log = value; break
      case '--trace': args.trace = value; break
      default: throw new Error(`unknown argument ${String(flag)}`)
    }
  }
  if (args.seed === undefined && args.seeds === undefined) throw new Error('give --seeds K (a sweep) or --seed S --scenario X --members N (a replay)')
  return args
}

/**
 * The runs of a sweep: every scenario for each seed. Unless fixed by flags,
 * a seed's size and profile follow from it (every third seed runs 20
 * members, the rest 5; odd seeds lan, even seeds test); each replay line
 * names them.
 */
function sweep (args: Args): RunSpec[] {
  const specs: RunSpec[] = []
  const seeds = args.seed !== undefined ? [args.seed] : Array.from({ length: args.seeds ?? 0 }, (_, i) => args.from + i)
  for (const seed of seeds) {
    for (const s of SCENARIOS) {
      if (args.scenario !== undefined && s.name !== args.scenario) continue
      specs.push({ scenario: s.name, seed, members: args.members ?? (seed % 3 === 0 ? 20 : 5), profile: args.profile ?? (args.seed !== undefined || seed % 2 === 1 ? 'lan' : 'test'), gossip: args.gossip })
    }
  }
  return specs
}

function oneLine (r: RunResult): string {
  const metrics = Object.entries(r.metrics).map(([k, v]) => `${k}=${Math.round(v)}`).join(' ')
  return `${r.violations.length === 0 ? 'ok  ' : 'FAIL'} ${r.spec.scenario} seed=${r.spec.seed} n=${r.spec.members} ${r.spec.profile} ` +
    `virtual=${(r.virtualMs / 1000).toFixed(1)}s real=${Math.round(r.realMs)}ms ${metrics}`
}

// Per scenario, size and profile: runs, failures and the worst, median and p99 of each metric.
function summarise (results: readonly RunResult[]): string[] {
  const groups = new Map<string, RunResult[]>()
  for (const r of results) {
    const k = `${r.spec.scenario} n=${r.spec.members} ${r.spec.profile}`
    groups.set(k, [...(groups.get(k) ?? []), r])
  }
  return [...groups].map(([k, rs]) => {
    const values = new Map<string, number[]>()
    for (const r of rs) {
      for (const [m, v] of Object.entries(r.metrics)) {
        const vs = values.get(m) ?? []
        vs.push(v)
        values.set(m, vs)
      }
    }
    const failed = rs.filter(r => r.violations.length > 0).length
    const real = rs.reduce((s, r) => s + r.realMs, 0)
    const show = (q: number): string => [...values].map(([m, vs]) => `${m}=${Math.round(quantile(vs, q))}`).join(' ')
    return `${k.padEnd(28)} runs=${rs.length} failed=${failed} real=${(real / 1000).toFixed(1)}s worst: ${show(1)}\n${''.padEnd(29)}p50: ${show(0.5)}\n${''.padEnd(29)}p99: ${show(0.99)}`
  })
}

async function main (): Promise<number> {
  const args = parseArgs(process.argv.slice(2))
  const specs = sweep(args)
  const replay = args.seed !== undefined
  const results: RunResult[] = []
  const started = performance.now()
  for (const spec of specs) {
    const id = args.trace
    const r = await runScenario(spec, { logLevel: args.log, inspect: id !== undefined && replay ? sim => { trace(sim, id) } : undefined })
    results.push(r)
    if (replay || r.violations.length > 0) {
      console.log(oneLine(r))
      for (const v of r.violations.slice(0, 20)) console.log(`  ${v.invariant}: ${v.message}`)
      if (r.violations.length > 20) console.log(`  … and ${r.violations.length - 20} more`)
      if (r.violations.length > 0) console.log(`  replay: ${replayCommand(spec)}`)
      console.log(`  network: ${JSON.stringify(r.stats)}`)
    }
  }
  const failed = results.filter(r => r.violations.length > 0)
  if (!replay) {
    console.log(`\n${results.length} runs, ${failed.length} failed, ${((performance.now() - started) / 1000).toFixed(1)}s real`)
    for (const line of summarise(results)) console.log(line)
    for (const r of failed.slice(0, 50)) console.log(`replay: ${replayCommand(r.spec)}`)
  }
  return failed.length === 0 ? 0 : 1
}

// Prints every table change about member `id`, in time order.
function trace (sim: Simulation, id: string): void {
  console.log(`events about ${id}:`)
  for (const e of sim.events) {
    if (e.subject === id) console.log(`  ${(e.t / 1000).toFixed(4)}s ${e.observer}#${e.gen} holds ${id} ${e.state}#${e.incarnation}`)
  }
}

main().then(code => { process.exitCode = code }, (err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 2
})
