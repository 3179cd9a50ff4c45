import { pino } from 'pino'
import { createConfig, isProfileName } from '../config.js'
import { InvalidArgumentError } from '../errors.js'
import { GrapevineNode } from '../node.js'
import { flagsHelp, parseFlags, parseHostPort } from './args.js'
import { NODE_FLAGS } from './node-flags.js'

/**
 * `grapevine node`: runs one node until SIGTERM or SIGINT, then leaves the
 * cluster gracefully (announces LEFT, drains gRPC) and exits 0.
 */
export async function runNodeCommand (argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(`usage: grapevine node [flags]\n${flagsHelp(NODE_FLAGS)}\n`)
    return 0
  }
  const f = parseFlags(argv, NODE_FLAGS)
  if (!isProfileName(f.profile)) throw new InvalidArgumentError('--profile', `unknown profile "${f.profile}"`)
  const grpc = parseHostPort(f.grpc, '--grpc')
  const gossip = parseHostPort(f.gossip, '--gossip')
  const seeds = f.join === '' ? [] : f.join.split(',').map(s => s.trim()).filter(s => s !== '')
  for (const s of seeds) parseHostPort(s, '--join')
  if (!Object.hasOwn(pino.levels.values, f['log-level']) && f['log-level'] !== 'silent') {
    throw new InvalidArgumentError('--log-level', `expected one of ${Object.keys(pino.levels.values).join(', ')}, silent; got "${f['log-level']}"`)
  }
  const logger = pino({ level: f['log-level'], base: { pid: process.pid } })
  const node = new GrapevineNode({
    name: f.name === '' ? `${gossip.host}:${gossip.port}` : f.name,
    dataDir: f['data-dir'],
    grpcHost: grpc.host,
    grpcPort: grpc.port,
    gossipHost: gossip.host,
    gossipPort: gossip.port,
    seeds,
    cluster: f.cluster,
    faultFile: f['fault-file'],
    config: createConfig(f.profile),
    logger
  })
  // a node must outlive a bad handler or a peer's garbage: log, never crash
  process.on('uncaughtException', err => { logger.error({ err }, 'uncaught exception') })
  process.on('unhandledRejection', err => { logger.error({ err }, 'unhandled rejection') })
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    node.stop({ leave: true }).then(() => process.exit(0), err => {
      logger.error({ err }, 'stop failed')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => { stop('SIGTERM') })
  process.on('SIGINT', () => { stop('SIGINT') })
  await node.start()
  return -1
}
