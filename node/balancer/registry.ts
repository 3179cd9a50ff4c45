/**
 * The strategies by their wire names, as grpc-js registers its load balancer
 * types by name. Adding a strategy is a file and a line here.
 */
import { InvalidArgumentError } from '../errors.js'
import type { InstanceRecord } from '../registry/types.js'
import { leastRequest } from './least-request.js'
import { locality } from './locality.js'
import { maglev } from './maglev.js'
import type { Picker, StrategyFactory, StrategyOptions } from './picker.js'
import { uniformRandom } from './random.js'
import { ringHash } from './ring-hash.js'
import { roundRobin } from './round-robin.js'
import { weightedRandom } from './weighted-random.js'
import { weightedRoundRobin } from './weighted-round-robin.js'

/** Names a strategy is asked for by. */
export type StrategyName =
  | 'round_robin' | 'weighted_round_robin' | 'random' | 'weighted_random'
  | 'least_request' | 'ring_hash' | 'maglev' | 'locality'

/** Every strategy by name. */
export const STRATEGIES: ReadonlyMap<string, StrategyFactory> = new Map<StrategyName, StrategyFactory>([
  ['round_robin', roundRobin],
  ['weighted_round_robin', weightedRoundRobin],
  ['random', uniformRandom],
  ['weighted_random', weightedRandom],
  ['least_request', leastRequest],
  ['ring_hash', ringHash],
  ['maglev', maglev],
  ['locality', locality]
])

/** Whether `name` is a known strategy. */
export function isStrategy (name: string): name is StrategyName {
  return STRATEGIES.has(name)
}

/** A picker of strategy `name` over `instances`; throws InvalidArgumentError('strategy') for an unknown name. */
export function buildPicker (name: string, instances: readonly InstanceRecord[], opts: StrategyOptions): Picker {
  const factory = STRATEGIES.get(name)
  if (factory === undefined) {
    throw new InvalidArgumentError('strategy', `unknown strategy "${name}"; one of ${[...STRATEGIES.keys()].join(', ')}`)
  }
  return factory(instances, opts)
}
