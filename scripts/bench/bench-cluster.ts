import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { LocalCluster } from '../../cluster/launcher.js'

/** Percentile of a sorted list (nearest rank). */
export function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

/** Starts a throwaway local cluster of node processes for a benchmark; `run` gets it, and it is stopped after. */
export async function withCluster<T> (nodes: number, basePort: number, run: (c: LocalCluster) => Promise<T>, profile = 'local'): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'grapevine-bench-'))
  // info level: the failure benchmark counts state changes in the logs
  const cluster = new LocalCluster({ nodes, dir, basePort, profile, logLevel: 'info' })
  try {
    await cluster.start()
    return await run(cluster)
  } finally {
    await cluster.stop()
    if (process.env.BENCH_KEEP === undefined) await rm(dir, { recursive: true, force: true })
    else console.log(`kept ${dir}`)
  }
}

/** Prints one figure against its target, in the README's table format. */
export function report (name: string, value: string, target: string, ok: boolean): void {
  console.log(`| ${name} | ${value} | ${target} | ${ok ? 'met' : 'NOT met'} |`)
}
