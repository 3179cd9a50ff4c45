/**
 * The flags of `grapevine node`: one table used by the parser, the help text
 * and the docker-compose check, so they cannot drift apart.
 */
export interface FlagSpec {
  /** flag name without the leading dashes */
  readonly name: string
  readonly help: string
  /** value used when the flag is absent; undefined = required */
  readonly default?: string
  /** a comma-separated list: given more than once, the values add up */
  readonly list?: true
}

export const NODE_FLAGS: readonly FlagSpec[] = [
  { name: 'name', help: 'human name of this node', default: '' },
  { name: 'data-dir', help: 'folder for the node key, epoch and owned records' },
  { name: 'grpc', help: 'host:port the gRPC API listens on', default: '127.0.0.1:7000' },
  { name: 'gossip', help: 'host:port the libp2p (gossip) listener binds', default: '127.0.0.1:7001' },
  { name: 'join', help: 'seeds\' gossip addresses, host:port[,host:port...] (may be given more than once)', default: '', list: true },
  { name: 'cluster', help: 'cluster name; nodes of other clusters are ignored', default: 'default' },
  { name: 'profile', help: 'timing preset: local, lan, wan or test', default: 'lan' },
  { name: 'log-level', help: 'pino level: trace, debug, info, warn, error', default: 'info' },
  { name: 'fault-file', help: 'TESTS ONLY: file of peer ids to act partitioned from', default: '' }
]
