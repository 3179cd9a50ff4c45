/**
 * Health logic shared by every strategy: which instances may serve, in which
 * preference tiers, and when the panic threshold makes health irrelevant.
 * Pure functions of a snapshot; strategies only ever see the tiers.
 */
import type { HealthStatus, InstanceRecord } from '../registry/types.js'
import type { PickResult } from './picker.js'

/** Instances of equal preference, sorted by instance id. */
export type Tier = readonly InstanceRecord[]

/** What a strategy balances over: tiers in preference order, and whether in panic. */
export interface Candidates {
  /** non-empty tiers; a strategy picks from `tiers[0]` and lists the rest after it */
  readonly tiers: readonly Tier[]
  readonly panic: boolean
}

/** A tier with the weight each member balances by. */
export interface WeightedTier {
  readonly members: Tier
  /** `weights[i]` belongs to `members[i]`; always > 0 */
  readonly weights: readonly number[]
}

/** Weight given to every member of a tier whose weights are all 0: the registry's default. */
export const EQUAL_WEIGHT = 100

/** PASSING and WARNING serve; CRITICAL and MAINTENANCE do not. */
export function isServable (status: HealthStatus): boolean {
  return status === 'PASSING' || status === 'WARNING'
}

/**
 * Whether an instance counts at all. MAINTENANCE is a deliberate drain by its
 * owner, not a failure: it is left out of the panic set and of every share's
 * denominator, so draining half a fleet neither triggers panic nor spills a
 * zone (Envoy treats its "excluded" hosts the same way). An instance whose
 * owner node is DEAD is left out too: nothing vouches for it any more, and a
 * dead instance must never come back in an answer, even a panicked one.
 */
export function isEligible (r: InstanceRecord): boolean {
  return r.status !== 'MAINTENANCE' && r.ownerDead !== true
}

/** servable / eligible among `instances`; 0 when none is eligible. */
export function servableShare (instances: readonly InstanceRecord[]): number {
  let eligible = 0
  let servable = 0
  for (const r of instances) {
    if (!isEligible(r)) continue
    eligible++
    if (isServable(r.status)) servable++
  }
  return eligible === 0 ? 0 : servable / eligible
}

/**
 * The tiers to balance over. Normally [PASSING, WARNING] (WARNING serves only
 * when no PASSING is left); when the servable share of eligible instances is
 * below `panicThreshold`, one tier of every eligible instance, CRITICAL
 * included, with `panic` set: spreading load over possibly-failing instances
 * beats crushing the few healthy ones (Envoy's panic mode).
 */
export function candidates (instances: readonly InstanceRecord[], panicThreshold: number): Candidates {
  const eligible = sortById(instances.filter(isEligible))
  if (eligible.length === 0) return { tiers: [], panic: false }
  const passing = eligible.filter(r => r.status === 'PASSING')
  const warning = eligible.filter(r => r.status === 'WARNING')
  if ((passing.length + warning.length) / eligible.length < panicThreshold) {
    return { tiers: [eligible], panic: true }
  }
  return { tiers: [passing, warning].filter(t => t.length > 0), panic: false }
}

/**
 * Tiers for weighted strategies: each health tier's positive-weight members
 * first, then the zero-weight members of every tier, which balance at
 * EQUAL_WEIGHT and so serve only when no positive weight is left anywhere.
 */
export function weightedTiers (tiers: readonly Tier[]): WeightedTier[] {
  const positive: WeightedTier[] = []
  const zero: WeightedTier[] = []
  for (const tier of tiers) {
    const heavy = tier.filter(r => weightOf(r) > 0)
    const light = tier.filter(r => weightOf(r) <= 0)
    if (heavy.length > 0) positive.push({ members: heavy, weights: heavy.map(weightOf) })
    if (light.length > 0) zero.push({ members: light, weights: light.map(() => EQUAL_WEIGHT) })
  }
  return positive.concat(zero)
}

/** The record's weight; anything not a finite positive number counts as 0. */
export function weightOf (r: InstanceRecord): number {
  return Number.isFinite(r.weight) && r.weight > 0 ? r.weight : 0
}

/** One frozen result per member, so pickers return them without allocating. */
export function resultsOf (members: Tier, panic: boolean): readonly PickResult[] {
  return members.map(instance => Object.freeze({ instance, panic }))
}

/** A copy sorted by instance id: a picker must not depend on map insertion order. */
export function sortById (instances: readonly InstanceRecord[]): InstanceRecord[] {
  return [...instances].sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0))
}

/** `list` rotated to start at `start` (taken modulo its length). */
export function rotate<T> (list: readonly T[], start: number): T[] {
  if (list.length === 0) return []
  const s = start % list.length
  return list.slice(s).concat(list.slice(0, s))
}
