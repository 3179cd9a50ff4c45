/**
 * The picker contract shared by every strategy (after grpc-js's `Picker`):
 * a strategy turns one snapshot of a service's instances into an immutable
 * picker; a changed view builds a new picker rather than mutating this one.
 * `pick()` is synchronous and never touches registry state; the only state a
 * picker carries is its own rotation or randomness.
 */
import { InvalidConfigError } from '../errors.js'
import { mathRandom } from '../membership/clock.js'
import type { Random } from '../membership/clock.js'
import type { InstanceRecord } from '../registry/types.js'

/** What a caller knows about one request. */
export interface PickRequest {
  /** key for consistent-hash strategies (session, user, shard); ignored by the others; '' counts as none (proto3) */
  hashKey?: string
  /** zone of the caller; `locality` keeps traffic in it while it is healthy enough; '' counts as none */
  clientZone?: string
}

/**
 * One pick. Pickers hand out a result object cached per instance, so `pick()`
 * allocates nothing: treat it as read-only.
 */
export interface PickResult {
  readonly instance: InstanceRecord
  /** true when too few instances were servable and health was disregarded */
  readonly panic: boolean
}

/** An immutable snapshot of one service's instances under one strategy. */
export interface Picker {
  /** One instance for one request; undefined when nothing can serve. */
  pick: (req: PickRequest) => PickResult | undefined
  /**
   * For Discover: every servable instance in the strategy's preference order
   * (PASSING before WARNING; all non-MAINTENANCE instances in panic). The first
   * element is what `pick()` would have returned in the same state; the call
   * advances the picker as one pick does (random strategies also draw for the tail).
   */
  order: (req: PickRequest) => { instances: InstanceRecord[], panic: boolean }
}

/** Tuning shared by every strategy. `createStrategyOptions` validates a partial one. */
export interface StrategyOptions {
  /**
   * Fraction 0-1. When fewer than this share of a service's instances are
   * servable (PASSING or WARNING), pickers disregard health and balance over
   * every instance except MAINTENANCE, reporting `panic`. Higher protects
   * the last healthy instances from a cascade sooner; lower keeps traffic off
   * failing instances longer; 0 never panics. Default 0.5 (Envoy's).
   */
  panicThreshold: number
  /**
   * Fraction 0-1 for `locality`: traffic stays in the caller's zone while
   * servable/total (MAINTENANCE left out of both) in that zone is at least
   * this. Higher spills to other zones sooner (less load on a degraded zone,
   * more cross-zone traffic). Default 0.7.
   */
  localityThreshold: number
  /** Reported load of an instance for `least_request`, read at pick time. Default: 0 for all. */
  loadOf?: (r: InstanceRecord) => number
  /** Randomness for the random strategies and start positions; seeded in tests. Default Math.random. */
  random?: Random
}

/** Builds a picker from one snapshot of a service's instances. */
export type StrategyFactory = (instances: readonly InstanceRecord[], opts: StrategyOptions) => Picker

/** Envoy's panic threshold and a 70% locality threshold. */
export const DEFAULT_STRATEGY_OPTIONS: Readonly<StrategyOptions> = Object.freeze({
  panicThreshold: 0.5,
  localityThreshold: 0.7
})

/** Defaults with overrides; throws InvalidConfigError naming a threshold outside 0-1. */
export function createStrategyOptions (partial: Partial<StrategyOptions> = {}): StrategyOptions {
  const opts: StrategyOptions = { ...DEFAULT_STRATEGY_OPTIONS, ...partial }
  for (const field of ['panicThreshold', 'localityThreshold'] as const) {
    const v = opts[field]
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new InvalidConfigError(field, `must be a number in [0, 1], got ${String(v)}`)
    }
  }
  return opts
}

/** The injected Random, or Math.random. */
export function randomOf (opts: StrategyOptions): Random {
  return opts.random ?? mathRandom
}

/** A uniform integer in [0, n). */
export function randomIndex (random: Random, n: number): number {
  return Math.floor(random.next() * n)
}

/** The picker of a service with no instance that can serve. */
export const EMPTY_PICKER: Picker = Object.freeze({
  pick: () => undefined,
  order: () => ({ instances: [], panic: false })
})
