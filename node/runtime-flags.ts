/**
 * V8 flags every node process runs with; the launcher, the Dockerfile and
 * the CLI's shebang all pass these (test/unit/runtime-flags.test.ts checks
 * they agree).
 *
 * --max-semi-space-size=4: V8's young generation grows to three 16 MB
 * semi-spaces under load and keeps them; a node's traffic is small,
 * short-lived objects, and 4 MB semi-spaces hold them as well. At 100,000
 * instances this is 24 MB of RSS per node (see README, memory).
 *
 * --v8-pool-size=1: one V8 background thread (concurrent marking and
 * sweeping, optimizing compiles) instead of four. Nodes share their host's
 * cores with each other and with clients; on two cores, five nodes' twenty
 * background threads preempted the main threads that carry a request or a
 * gossip batch. Alternated with the default: Register throughput 3,446 and
 * 4,013/s against 2,758 and 2,826/s (CPU per registration, all five nodes,
 * 0.50 ms against 0.61), propagation p99 12.8-17.8 ms against 18.6-32.9
 * over four pairs (see README, Register's CPU).
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--v8-pool-size=1']

/**
 * Runtime arguments for a spawned node: ours, then GRAPEVINE_NODE_FLAGS
 * (e.g. --cpu-prof), which NODE_OPTIONS refuses.
 */
export function nodeRuntimeArgs (env: NodeJS.ProcessEnv = process.env): string[] {
  return [...NODE_RUNTIME_FLAGS, ...(env.GRAPEVINE_NODE_FLAGS ?? '').split(' ').filter(f => f !== '')]
}
