#!/usr/bin/env node
import '../../node/polyfill.js'
import { readFile } from 'node:fs/promises'
import { flagsHelp, parseFlags } from '../../node/cli/args.js'
import type { FlagSpec } from '../../node/cli/node-flags.js'
import { InvalidArgumentError } from '../../node/errors.js'
import { checkHistory } from './checker.js'
import type { HistoryEntry } from './history.js'
import { formatTable, formatTimeline, formatViolations } from './report.js'
import { runChaos } from './runner.js'
import type { ChaosOptions } from './runner.js'

/** The flags of `npm run chaos`. */
export const CHAOS_FLAGS: readonly FlagSpec[] = [
  { name: 'nodes', help: 'node processes', default: '5' },
  { name: 'duration', help: 'seconds of the run; faults stop 20 s before its end', default: '90' },
  { name: 'seed', help: 'seed of the fault plan and the workload (default: from the clock, printed)', default: '' },
  { name: 'instances', help: 'simulated instances', default: '200' },
  { name: 'services', help: 'services the instances spread over', default: '20' },
  { name: 'ttl', help: 'TTL of every instance, seconds', default: '5' },
  { name: 'history', help: 'write the recorded history to this file as JSON lines', default: '' },
  { name: 'base-port', help: 'node i serves gRPC on base+2(i-1), gossip on base+2(i-1)+1', default: '7700' },
  { name: 'dir', help: 'cluster folder (default: a temp dir, removed when every invariant holds)', default: '' },
  { name: 'profile', help: 'node profile: test or local', default: 'test' },
  { name: 'check', help: 'run nothing: check a history written by --history again', default: '' }
]

const USAGE = 'usage: npm run chaos -- [flags]\n  a cluster under faults and load, then an invariant check of the recorded history'

async function main (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n${flagsHelp(CHAOS_FLAGS)}\n`)
    return 0
  }
  let opts: ChaosOptions
  let check: string
  try {
    const flags = parseFlags(argv, CHAOS_FLAGS)
    if (flags.profile !== 'test' && flags.profile !== 'local') throw new InvalidArgumentError('--profile', `expected test or local, got "${flags.profile}"`)
    const int = (name: string, min: number, max: number): number => {
      const v = flags[name]
      const n = Number(v)
      if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`--${name}`, `expected an integer ${min}-${max}, got "${v}"`)
      return n
    }
    check = flags.check
    opts = {
      seed: flags.seed === '' ? Date.now() % 1_000_000 : int('seed', 0, 2 ** 32 - 1),
      nodes: int('nodes', 3, 9),
      durationS: int('duration', 30, 3600),
      instances: int('instances', 1, 5000),
      services: int('services', 1, 200),
      ttlS: int('ttl', 1, 3600),
      basePort: int('base-port', 1024, 65_000),
      profile: flags.profile,
      ...(flags.history !== '' ? { historyFile: flags.history } : {}),
      ...(flags.dir !== '' ? { dir: flags.dir } : {})
    }
  } catch (err) {
    process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`)
    return 2
  }
  if (check !== '') return await recheck(check)
  const report = await runChaos(opts)
  return report.passed ? 0 : 1
}

// checks a dumped history again (after a change to the checker, or to look at a failure offline)
async function recheck (file: string): Promise<number> {
  const entries = (await readFile(file, 'utf8')).split('\n').filter(l => l !== '').map(l => JSON.parse(l) as HistoryEntry)
  const results = checkHistory(entries)
  const t0 = entries.find(e => e.kind === 'meta')?.t ?? 0
  const passed = results.every(r => r.pass)
  process.stdout.write(`${formatTable(results)}\n`)
  if (!passed) process.stdout.write(`fault timeline:\n${formatTimeline(entries, t0)}\n${formatViolations(results, t0)}\n`)
  return passed ? 0 : 1
}

main(process.argv.slice(2)).then(code => { process.exit(code) }, (err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(2)
})
