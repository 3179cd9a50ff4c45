import { InvalidConfigError } from './errors.js'

/** Names of the presets; `local` is for one machine, `lan` the default. */
export type ProfileName = 'local' | 'lan' | 'wan' | 'test'

/**
 * Timing and sizing of one node. Durations carry their unit in the name.
 * Presets below; `createConfig` validates a partial override of one.
 */
export interface NodeConfig {
  /**
   * SWIM protocol period: each period this node probes one member (shuffled
   * round robin). Lower finds a hung member sooner; the cost is one small
   * message per period per node, whatever the cluster size. A hung (not
   * crashed) member is DEAD after the first probe of it (median about 0.6
   * period with 5 members: each probes it once per shuffled round), about 2
   * timeouts of direct and indirect probing, then the suspicion minimum
   * (simulated median 3.5 s on a 5-member LAN). lan's period is short and its
   * `suspicionMult` high so that the minimum, which 2 s pauses need, stays
   * 2.5 s. local 500, lan 640, wan 5000.
   */
  probeIntervalMs: number
  /**
   * How long a direct probe may take before it counts as missed and k other
   * members are asked to probe (ping-req). Must be below `probeIntervalMs`;
   * too low and a busy member looks failed. local 250, lan 300, wan 3000.
   */
  probeTimeoutMs: number
  /** k: members asked to probe a member that missed our direct probe. Default 3. */
  indirectChecks: number
  /**
   * Scales the suspicion timeout: `min = suspicionMult × log10(max(n,1)+1) ×
   * probeIntervalMs` (2.5 s for 5 members on a LAN). Higher gives a
   * suspected member longer to refute (fewer false verdicts), lower declares
   * a hung member dead sooner. The minimum must outlast the longest pause a
   * live member may take (GC, a stalled VM: 2 s here) plus its refutation's
   * way back, even when a suspicion (from lost messages) starts just as the
   * pause does: at 1.9 s the simulation caught live members declared DEAD
   * after 2 s pauses; at 2.5 s the closest call over 4000 lossy runs kept
   * 0.5 s. Also sets how many confirmations reach the minimum
   * (`suspicionMult − 2`, 0 when the cluster has fewer others to confirm).
   * local 4, lan 5, wan 6.
   */
  suspicionMult: number
  /**
   * A suspicion starts at `suspicionMaxTimeoutMult × min` and falls to `min`
   * as `suspicionMult − 2` independent members confirm it (Lifeguard), so a
   * lone accuser (perhaps the slow one) cannot kill a member quickly. Default 6.
   */
  suspicionMaxTimeoutMult: number
  /**
   * Suspicion timeout when the direct probe AND every indirect prober were
   * refused (ECONNREFUSED: the host answers, nothing listens): long enough
   * for a member restarting on the same port to answer with a higher
   * incarnation, short enough to catch a crash in under a second.
   * local 300, lan 300, wan 1000.
   */
  refusedSuspicionMs: number
  /** Each membership update rides on `retransmitMult × ceil(log10(n+1))` messages. Default 4. */
  retransmitMult: number
  /** Most updates piggybacked on one probe message. Default 32. */
  maxPiggyback: number
  /**
   * Lifeguard local health: a node that misses acks and nacks stretches its
   * own probe interval and timeout up to this factor. Default 8.
   */
  awarenessMaxMultiplier: number
  /**
   * Every this often, try to reach a random DEAD member and a seed by
   * push-pull: how a healed partition or a restarted member merges back.
   * local 1000, lan 2000, wan 10000.
   */
  reconnectIntervalMs: number
  /** DEAD and LEFT members are kept (for reconnect attempts) this long, then forgotten. Default 1 h. */
  deadMemberKeepMs: number
  /**
   * How long the instances of a DEAD owner stay in the view as CRITICAL
   * before every node drops them. Long enough for a restarted owner to
   * re-announce them; short enough that the view does not fill with ghosts.
   * local 30000, lan 60000, wan 120000.
   */
  ownerReapMs: number
  /**
   * Period of anti-entropy: swap version vectors with a random member and
   * pull what is missing. Bounds how long a lost gossip message stays lost.
   * local 1000, lan 2000, wan 5000.
   */
  antiEntropyIntervalMs: number
  /**
   * How long the owner gathers ops before publishing one gossip message.
   * One message per batch, not per op: signing and checking each message
   * cost most of gossip's CPU. 0 publishes on the next tick. local 2, lan 5, wan 20.
   */
  gossipBatchMs: number
  /** Most ops in one gossip message; a larger batch is split. Default 500. */
  gossipBatchMaxOps: number
  /**
   * How long a tombstone is kept so that deltas (gossip gaps, resumed
   * watches) can carry the delete. Past it, a peer that far behind gets the
   * owner's whole sub-map instead. Default 10 minutes.
   */
  tombstoneRetentionMs: number
  /** Most tombstones kept per owner, oldest pruned first. Default 100000. */
  maxTombstonesPerOwner: number
  /**
   * Most pending events per watcher, after coalescing to the latest state
   * per key. A watcher past it is cut off with RESOURCE_EXHAUSTED and resumes
   * with its last token; the node never blocks on it. Default 100000.
   */
  watchQueueMax: number
  /**
   * How long a watch resumed with a token from a node that is ahead of this
   * one waits for anti-entropy to catch up, before answering with a fresh
   * snapshot. Default 3000.
   */
  watchCatchUpMs: number
  /** Delay that gathers changes before owned records are written to disk. Default 100. */
  persistDebounceMs: number
  /** How long a graceful stop waits for gRPC calls and streams to end. Default 2000. */
  grpcShutdownMs: number
  /** How often a node re-dials seeds while it knows no other member. Default 500. */
  joinRetryMs: number
  /** Default TTL for a registration that names none. Default 30 s. */
  defaultTtlMs: number
  /**
   * Health check runs in flight at once on this node; due runs beyond it
   * wait their turn. Higher finishes a burst sooner, lower bounds sockets.
   * Default 256.
   */
  maxConcurrentChecks: number
  /**
   * Envoy's panic threshold, 0-1: when fewer than this share of a service's
   * instances are healthy, Discover and Pick balance over all of them (but
   * drained ones) and say `panic`, rather than pile everything on the few
   * left. 0 never panics. Default 0.5.
   */
  panicThreshold: number
  /** `locality`: keep traffic in the caller's zone while at least this share of it is healthy. Default 0.7. */
  localityThreshold: number
}

const BASE: NodeConfig = {
  probeIntervalMs: 640,
  probeTimeoutMs: 300,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  refusedSuspicionMs: 300,
  retransmitMult: 4,
  maxPiggyback: 32,
  awarenessMaxMultiplier: 8,
  reconnectIntervalMs: 2000,
  deadMemberKeepMs: 60 * 60_000,
  ownerReapMs: 60_000,
  antiEntropyIntervalMs: 2000,
  gossipBatchMs: 5,
  gossipBatchMaxOps: 500,
  tombstoneRetentionMs: 10 * 60_000,
  maxTombstonesPerOwner: 100_000,
  watchQueueMax: 100_000,
  watchCatchUpMs: 3000,
  persistDebounceMs: 100,
  grpcShutdownMs: 2000,
  joinRetryMs: 500,
  defaultTtlMs: 30_000,
  maxConcurrentChecks: 256,
  panicThreshold: 0.5,
  localityThreshold: 0.7
}

/** The presets, by name. */
export const PROFILES: Readonly<Record<ProfileName, NodeConfig>> = {
  // 5 × log10(6) × 640 = 2.5 s, the minimum 2 s pauses need, with probes 25% more often than at 4 × 800
  lan: { ...BASE, suspicionMult: 5 },
  local: { ...BASE, probeIntervalMs: 500, probeTimeoutMs: 250, reconnectIntervalMs: 1000, ownerReapMs: 30_000, antiEntropyIntervalMs: 1000, gossipBatchMs: 2 },
  wan: { ...BASE, probeIntervalMs: 5000, probeTimeoutMs: 3000, suspicionMult: 6, refusedSuspicionMs: 1000, reconnectIntervalMs: 10_000, ownerReapMs: 120_000, antiEntropyIntervalMs: 5000, gossipBatchMs: 20 },
  test: { ...BASE, probeIntervalMs: 200, probeTimeoutMs: 100, refusedSuspicionMs: 150, reconnectIntervalMs: 300, ownerReapMs: 3000, antiEntropyIntervalMs: 300, gossipBatchMs: 1, persistDebounceMs: 5, watchCatchUpMs: 1000, grpcShutdownMs: 500, joinRetryMs: 100, deadMemberKeepMs: 60_000 }
}

/** True when `name` is a preset's name. */
export function isProfileName (name: string): name is ProfileName {
  return Object.hasOwn(PROFILES, name)
}

/** A preset with overrides, validated; throws InvalidConfigError naming the field. */
export function createConfig (profile: ProfileName = 'lan', overrides: Partial<NodeConfig> = {}): NodeConfig {
  if (!isProfileName(profile)) throw new InvalidConfigError('profile', `unknown profile "${String(profile)}"`)
  const config = { ...PROFILES[profile], ...overrides }
  for (const [field, value] of Object.entries(config)) {
    if (!Object.hasOwn(BASE, field)) throw new InvalidConfigError(field, 'unknown field')
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new InvalidConfigError(field, `must be a finite number >= 0, got ${String(value)}`)
    }
  }
  if (config.probeTimeoutMs >= config.probeIntervalMs) {
    throw new InvalidConfigError('probeTimeoutMs', 'must be below probeIntervalMs')
  }
  if (config.indirectChecks < 0 || !Number.isInteger(config.indirectChecks)) throw new InvalidConfigError('indirectChecks', 'must be a whole number >= 0')
  if (config.suspicionMult < 1) throw new InvalidConfigError('suspicionMult', 'must be at least 1')
  if (config.suspicionMaxTimeoutMult < 1) throw new InvalidConfigError('suspicionMaxTimeoutMult', 'must be at least 1')
  if (config.panicThreshold > 1) throw new InvalidConfigError('panicThreshold', 'must be from 0 to 1')
  if (config.localityThreshold > 1) throw new InvalidConfigError('localityThreshold', 'must be from 0 to 1')
  if (config.maxConcurrentChecks < 1) throw new InvalidConfigError('maxConcurrentChecks', 'must be at least 1')
  if (config.awarenessMaxMultiplier < 1) throw new InvalidConfigError('awarenessMaxMultiplier', 'must be at least 1')
  if (config.gossipBatchMaxOps < 1) throw new InvalidConfigError('gossipBatchMaxOps', 'must be at least 1')
  if (config.watchQueueMax < 1) throw new InvalidConfigError('watchQueueMax', 'must be at least 1')
  // the reaper only sees members membership still lists: forgotten first, a DEAD owner's records stayed CRITICAL for good
  if (config.deadMemberKeepMs <= config.ownerReapMs) throw new InvalidConfigError('deadMemberKeepMs', 'must be above ownerReapMs')
  return config
}
