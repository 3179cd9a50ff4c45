import path from 'node:path'
import { flagsHelp, parseFlags } from '../node/cli/args.js'
import type { FlagSpec } from '../node/cli/node-flags.js'
import { InvalidArgumentError } from '../node/errors.js'
import { LocalCluster } from './launcher.js'

/** The flags of `grapevine cluster up`. */
export const CLUSTER_UP_FLAGS: readonly FlagSpec[] = [
  { name: 'nodes', help: 'how many node processes', default: '3' },
  { name: 'dir', help: 'folder for data dirs, logs (nN.log) and cluster.json', default: '.grapevine/cluster' },
  { name: 'base-port', help: 'node i serves gRPC on base+2(i-1), gossip on base+2(i-1)+1', default: '7100' },
  { name: 'profile', help: 'timing preset of every node: local, lan, wan or test', default: 'local' },
  { name: 'cluster', help: 'cluster name of every node', default: 'local' },
  { name: 'log-level', help: 'pino level of every node', default: 'info' },
  { name: 'timeout-ms', help: 'how long to wait for every node to see every node ALIVE', default: '30000' }
]

const USAGE = 'usage: grapevine cluster up [flags]\n  start N local node processes; Ctrl-C stops them all'

/**
 * `grapevine cluster up`: starts a LocalCluster, prints one ready line and
 * keeps running until SIGINT/SIGTERM/SIGHUP, then stops every node and exits 0.
 * Returns -1 while running (the process exits itself), else an exit code.
 */
export async function runClusterCommand (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === '--help' || sub === '-h' || (sub === 'up' && (rest.includes('--help') || rest.includes('-h')))) {
    process.stdout.write(`${USAGE}\n${flagsHelp(CLUSTER_UP_FLAGS)}\n`)
    return 0
  }
  if (sub !== 'up') {
    process.stderr.write(`grapevine: expected "cluster up"\n${USAGE}\n`)
    return 2
  }
  let cluster: LocalCluster
  let flags: Record<string, string>
  let timeoutMs: number
  let stopping = false
  try {
    flags = parseFlags(rest, CLUSTER_UP_FLAGS)
    const nodes = intFlag(flags, 'nodes', 1, 1000)
    timeoutMs = intFlag(flags, 'timeout-ms', 1, 2 ** 31 - 1)
    cluster = new LocalCluster({
      nodes,
      dir: flags.dir,
      basePort: intFlag(flags, 'base-port', 1, 65_535),
      profile: flags.profile,
      cluster: flags.cluster,
      logLevel: flags['log-level'],
      onExit: exit => {
        // reported, not restarted: a crash should stay visible to whoever is experimenting
        if (exit.expected) return
        // a Ctrl-C reaches the whole process group: a node may end before our own handler has
        // run, and is no crash then
        setTimeout(() => {
          if (stopping) return
          // if every node dies the process ends by itself; say so in the exit code
          process.exitCode = 1
          process.stderr.write(`grapevine cluster: ${exit.name} (pid ${exit.pid}) exited with ${exit.signal ?? `code ${exit.code}`}; see ${path.join(flags.dir, `${exit.name}.log`)}\n`)
        }, 250)
      }
    })
  } catch (err) {
    process.stderr.write(`grapevine: ${err instanceof Error ? err.message : String(err)}\n`)
    return 2
  }

  const onSignal = (): void => {
    if (stopping) return
    stopping = true
    cluster.stop().then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`grapevine cluster: stop failed: ${String(err)}\n`)
      process.exit(1)
    })
  }
  // installed before start, so Ctrl-C during a slow start still stops the children; SIGHUP
  // (the terminal closed) too: unhandled, it killed the launcher alone and left the nodes running
  for (const signal of SIGNALS) process.on(signal, onSignal)
  try {
    await cluster.start({ timeoutMs })
  } catch (err) {
    if (stopping) return -1
    for (const signal of SIGNALS) process.off(signal, onSignal)
    process.stderr.write(`grapevine cluster: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
  if (stopping) return -1
  const grpc = cluster.nodes().map(n => n.grpc).join(',')
  process.stdout.write(`grapevine cluster ready: ${cluster.size} nodes, grpc ${grpc}, cluster.json at ${path.join(flags.dir, 'cluster.json')}\n`)
  return -1
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

function intFlag (flags: Record<string, string>, name: string, min: number, max: number): number {
  const value = flags[name]
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`--${name}`, `expected an integer ${min}-${max}, got "${value}"`)
  return n
}
