/**
 * V8 flags every node process runs with; the launcher, the Dockerfile and
 * the CLI's shebang all pass these (test/unit/runtime-flags.test.ts checks
 * they agree).
 *
 * --max-semi-space-size=4: V8's young generation grows to three 16 MB
 * semi-spaces under load and keeps them; a node's traffic is small,
 * short-lived objects, and 4 MB semi-spaces hold them as well. At 100,000
 * instances this is 24 MB of RSS per node (see README, memory).
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=4']

/**
 * Runtime arguments for a spawned node: ours, then GRAPEVINE_NODE_FLAGS
 * (e.g. --cpu-prof), which NODE_OPTIONS refuses.
 */
export function nodeRuntimeArgs (env: NodeJS.ProcessEnv = process.env): string[] {
  return [...NODE_RUNTIME_FLAGS, ...(env.GRAPEVINE_NODE_FLAGS ?? '').split(' ').filter(f => f !== '')]
}
