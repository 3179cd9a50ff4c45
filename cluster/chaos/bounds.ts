import { createConfig, isProfileName } from '../../node/config.js'
import type { NodeConfig } from '../../node/config.js'

/**
 * Every time bound the checker judges by, derived in this one place from the
 * nodes' profile (node/config.ts) and the workload's TTL. Each is an upper
 * bound a correct cluster meets on this machine, not a measurement; the
 * formulas follow the config's TSDoc. Printed at the start of every run.
 */
export interface Bounds {
  /** TTL of every simulated instance */
  readonly ttlMs: number
  /** how late an owner's TTL sweep may run after a deadline: min(250, probeIntervalMs), as node.ts arms it */
  readonly sweepMs: number
  /** SWIM suspicion minimum: suspicionMult × log10(n+1) × probeIntervalMs */
  readonly suspicionMinMs: number
  /**
   * a crashed (SIGKILLed, or SIGTERMed and exited) member is DEAD everywhere: 2 periods + 2 probe
   * timeouts + refusedSuspicionMs + slack (a SIGTERMed member's LEFT usually removes it sooner)
   */
  readonly crashDetectMs: number
  /**
   * a hung (SIGSTOPped, partitioned) member is DEAD everywhere: n−1 periods (each prober reaches
   * a given member once per shuffled round) + 3 probe timeouts + the lone-accuser suspicion
   * (× suspicionMaxTimeoutMult) + slack
   */
  readonly hangDetectMs: number
  /** an op reaches every connected live node: gossip at once; a lost batch is pulled after 2 anti-entropy periods and 2 probe periods + slack */
  readonly propagationMs: number
  /**
   * added for an observer that is degraded (loss, delay), and for every observer of a partition (all
   * miss acks, so Lifeguard stretches their own timers, by design): allow a whole hang detection more
   */
  readonly degradedExtraMs: number
  /**
   * added for every observer of a partition instead: each side misses every ack from the other,
   * so Lifeguard's local health may reach its maximum and stretch its probe timeouts and
   * suspicions by awarenessMaxMultiplier, and its timers slip by as much under load: the whole
   * hang detection (multiplier − 1) times more. Measured on the test profile: 11.2 to 33.8 s from
   * the cut to the last healthy answer; one or two hang detections more (10.7 s, 16.0 s), and the
   * stretched timeouts alone (33.6 s), were too little.
   */
  readonly partitionExtraMs: number
  /** after its own freeze or restart, a node may serve its stale view this long while it catches up */
  readonly catchUpMs: number
  /** Status digests of all live nodes must agree within this long of the first poll */
  readonly convergeMs: number
  /** a watch event can trail a Discover answer of the same node by this long (other stream, same connection) */
  readonly eventSlackMs: number
  /** machine slack inside the bounds above (2 cores, 5 node processes and the runner) */
  readonly slackMs: number
}

/** The bounds for `profile` with `nodes` members and instances of TTL `ttlMs`. */
export function chaosBounds (profile: string, nodes: number, ttlMs: number, slackMs = 500): Bounds {
  if (!isProfileName(profile)) throw new RangeError(`unknown profile ${profile}`)
  return boundsOf(createConfig(profile), nodes, ttlMs, slackMs)
}

/** The bounds from a NodeConfig (see {@link chaosBounds}). */
export function boundsOf (c: NodeConfig, nodes: number, ttlMs: number, slackMs = 500): Bounds {
  const suspicionMinMs = Math.round(c.suspicionMult * Math.log10(Math.max(nodes, 1) + 1) * c.probeIntervalMs)
  const crashDetectMs = 2 * c.probeIntervalMs + 2 * c.probeTimeoutMs + c.refusedSuspicionMs + slackMs
  const hangDetectMs = Math.max(2, nodes - 1) * c.probeIntervalMs + 3 * c.probeTimeoutMs + c.suspicionMaxTimeoutMult * suspicionMinMs + slackMs
  const propagationMs = 2 * c.antiEntropyIntervalMs + 2 * c.probeIntervalMs + slackMs
  return {
    ttlMs,
    sweepMs: Math.min(250, c.probeIntervalMs),
    suspicionMinMs,
    crashDetectMs,
    hangDetectMs,
    propagationMs,
    degradedExtraMs: hangDetectMs,
    partitionExtraMs: (c.awarenessMaxMultiplier - 1) * hangDetectMs,
    catchUpMs: propagationMs,
    convergeMs: 5000,
    eventSlackMs: 2000,
    slackMs
  }
}

/** One line per bound, for the run's header. */
export function describeBounds (b: Bounds): string {
  return [
    `ttl ${b.ttlMs} ms (+ sweep ${b.sweepMs} ms)`,
    `crash (or exit after SIGTERM) detection ${b.crashDetectMs} ms, hang detection ${b.hangDetectMs} ms (suspicion min ${b.suspicionMinMs} ms)`,
    `propagation ${b.propagationMs} ms, degraded observer +${b.degradedExtraMs} ms, partitioned observer +${b.partitionExtraMs} ms, catch-up after a freeze or restart ${b.catchUpMs} ms`,
    `stopped client out of healthy answers: its last possible renewal + ttl + sweep + slack + max(propagation, hang detection) = renewal + ${b.ttlMs + b.sweepMs + b.slackMs + Math.max(b.propagationMs, b.hangDetectMs)} ms`,
    `convergence ${b.convergeMs} ms, watch event slack ${b.eventSlackMs} ms (machine slack ${b.slackMs} ms in each)`
  ].join('\n')
}
