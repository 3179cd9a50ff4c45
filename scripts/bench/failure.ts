import '../../node/polyfill.js'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { unary } from '../../client/client.js'
import type { LocalCluster } from '../../cluster/launcher.js'
import { waitFor } from '../../cluster/wait.js'
import { percentile, report, withCluster } from './bench-cluster.js'

// Failure detection on 5 node processes with the lan profile: SIGKILL and
// SIGSTOP, then a stress run with both cores saturated and one node stalling.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20)
const STRESS_S = Number(process.env.BENCH_STRESS_S ?? 600)

await withCluster(5, 7900, async cluster => {
  const kill = await detect(cluster, 'SIGKILL')
  const stop = await detect(cluster, 'SIGSTOP')
  summary('SIGKILL → DEAD at every survivor', kill, 1000, 2000)
  summary('SIGSTOP → DEAD at every survivor', stop, 4000)
  if (STRESS_S > 0) await stress(cluster, STRESS_S)
}, 'lan')
process.exit(0)

/** Kills (or stops) a random node ROUNDS times; the time until every survivor shows it DEAD. */
async function detect (cluster: LocalCluster, signal: 'SIGKILL' | 'SIGSTOP'): Promise<number[]> {
  const times: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const victim = 1 + Math.floor(Math.random() * cluster.size)
    const others = cluster.nodes().filter(n => n.index !== victim)
    const id = cluster.node(victim).nodeId
    const t0 = performance.now()
    const killed = cluster.kill(victim, signal)
    await waitFor(async () => {
      const views = await Promise.all(others.map(async n => await unary<any>(cluster.clients(n.index).cluster, 'Members', {}, { deadlineMs: 1000 })))
      return views.every(v => v.members.some((m: any) => m.node_id === id && m.state === 'DEAD'))
    }, { timeoutMs: 60_000, intervalMs: 20, message: `${signal} of n${victim} seen DEAD everywhere` })
    times.push(performance.now() - t0)
    await killed
    if (signal === 'SIGKILL') await cluster.restart(victim)
    else await cluster.kill(victim, 'SIGCONT')
    await cluster.waitAllAlive(60_000)
    console.log(`${signal} round ${r + 1}: n${victim} DEAD everywhere after ${times[times.length - 1].toFixed(0)} ms`)
  }
  return times
}

function summary (what: string, times: number[], medianTarget: number, p99Target?: number): void {
  const sorted = [...times].sort((a, b) => a - b)
  const med = percentile(sorted, 50)
  const p99 = percentile(sorted, 99)
  console.log(`${what}: median ${med.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms (${sorted.length} rounds)`)
  report(`${what}, median`, `${med.toFixed(0)} ms`, `≤ ${medianTarget} ms`, med <= medianTarget)
  if (p99Target != null) report(`${what}, p99`, `${p99.toFixed(0)} ms`, `≤ ${p99Target} ms`, p99 <= p99Target)
}

/**
 * Two busy loops saturate both cores while node 5 stalls 200 ms every
 * second (SIGSTOP/SIGCONT: its event loop frozen); every node stays live,
 * so every DEAD verdict is a false one. SUSPECTs are counted too.
 */
async function stress (cluster: LocalCluster, seconds: number): Promise<void> {
  const logs = await Promise.all(cluster.nodes().map(async n => (await readFile(n.logFile, 'utf8')).length))
  const burn = `const end = Date.now() + ${seconds * 1000}; while (Date.now() < end) {}`
  const burners = [0, 1].map(() => spawn(process.execPath, ['-e', burn], { stdio: 'ignore' }))
  const end = Date.now() + seconds * 1000
  const stalled = 5
  try {
    while (Date.now() < end) {
      await cluster.kill(stalled, 'SIGSTOP')
      await new Promise(resolve => setTimeout(resolve, 200))
      await cluster.kill(stalled, 'SIGCONT')
      await new Promise(resolve => setTimeout(resolve, 800))
    }
  } finally {
    for (const b of burners) b.kill('SIGKILL')
    await cluster.kill(stalled, 'SIGCONT')
  }
  let dead = 0
  let suspect = 0
  for (const [k, n] of cluster.nodes().entries()) {
    const text = (await readFile(n.logFile, 'utf8')).slice(logs[k])
    for (const line of text.split('\n')) {
      if (!line.includes('member state changed')) continue
      if (line.includes('"state":"DEAD"')) dead++
      if (line.includes('"state":"SUSPECT"')) suspect++
    }
  }
  console.log(`stress ${seconds} s (2 busy loops, n5 stalling 200 ms/s): ${dead} DEAD verdicts on live nodes, ${suspect} SUSPECT transitions`)
  report(`false DEAD verdicts in ${seconds} s of stress`, String(dead), '0', dead === 0)
  report(`SUSPECT transitions in ${seconds} s of stress (refuted)`, String(suspect), 'counted', true)
}
