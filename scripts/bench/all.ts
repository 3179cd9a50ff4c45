import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

// Runs every benchmark as a child process, one after another, and prints
// their `| figure | measured | target | met |` rows as one table headed by
// the date and the machine. `--all` adds the long ones (failure, checks);
// `--only a,b` runs those names; `--quick` shortens every run (each knob can
// still be set in the environment, which wins). A benchmark that fails or
// runs past BENCH_TIMEOUT_S (its process group is killed, node processes
// included) gets a row saying so, and the next one runs.

interface Bench {
  readonly name: string
  readonly file: string
  readonly long?: boolean
  /** environment for --quick */
  readonly quick?: Record<string, string>
  /** default time limit, s */
  readonly timeoutS?: number
}

const BENCHES: readonly Bench[] = [
  { name: 'propagation', file: 'propagation.js', quick: { BENCH_SECONDS: '5' } },
  { name: 'discover', file: 'discover.js', quick: { BENCH_SECONDS: '3' } },
  { name: 'grpc-baseline', file: 'grpc-baseline.js' },
  { name: 'round-trip-floor', file: 'round-trip-floor.js', quick: { BENCH_ROUNDS: '100' } },
  { name: 'pick-inprocess', file: 'pick-inprocess.js', quick: { BENCH_SECONDS: '0.3' } },
  { name: 'pick', file: 'pick.js', quick: { BENCH_SECONDS: '3' } },
  { name: 'register', file: 'register-throughput.js', quick: { BENCH_SECONDS: '3', BENCH_BURST: '2000', BENCH_WARMUP: '500' } },
  { name: 'memory', file: 'memory.js', quick: { BENCH_INSTANCES: '10000', BENCH_SETTLE_S: '2' } },
  { name: 'join', file: 'join.js', quick: { BENCH_INSTANCES: '10000' } },
  { name: 'watch', file: 'watch-fanout.js', quick: { BENCH_SECONDS: '5', BENCH_STREAMS: '200' } },
  { name: 'http2-stream-floor', file: 'http2-stream-floor.js', quick: { BENCH_STREAMS: '200' } },
  { name: 'idle', file: 'idle-gossip.js', quick: { BENCH_SECONDS: '10', BENCH_SETTLE_S: '2' } },
  { name: 'failure', file: 'failure.js', long: true, quick: { BENCH_ROUNDS: '3', BENCH_STRESS_S: '20' }, timeoutS: 3600 },
  { name: 'checks', file: 'checks.js', long: true, quick: { BENCH_CHECKS: '1000', BENCH_SECONDS: '15' }, timeoutS: 3600 }
]

const argv = process.argv.slice(2)
const withLong = argv.includes('--all')
const quick = argv.includes('--quick')
const onlyAt = argv.indexOf('--only')
const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',').filter(s => s !== '')) : undefined
if (only != null) {
  const unknown = [...only].filter(n => !BENCHES.some(b => b.name === n))
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.map(b => b.name).join(', ')}`)
    process.exit(2)
  }
}
const here = path.dirname(fileURLToPath(import.meta.url))
const selected = BENCHES.filter(b => only != null ? only.has(b.name) : (withLong || b.long !== true))

// a child still running when this process is interrupted is killed with its node processes
let current: number | undefined
const killCurrent = (): void => {
  if (current != null) try { process.kill(-current, 'SIGKILL') } catch {}
}
process.on('exit', killCurrent)
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { process.exit(130) })

interface Outcome { readonly bench: Bench, readonly rows: string[], readonly seconds: number, readonly status: string }

async function run (b: Bench): Promise<Outcome> {
  const file = path.join(here, b.file)
  if (!existsSync(file)) return { bench: b, rows: [], seconds: 0, status: `not built (${b.file} is missing)` }
  const env = { ...(quick ? b.quick : {}), ...process.env }
  const limitS = Number(process.env.BENCH_TIMEOUT_S ?? b.timeoutS ?? 600)
  const started = performance.now()
  console.log(`\n=== ${b.name} (${b.file}) ${new Date().toISOString()}`)
  // its own process group: on a timeout the group (the benchmark and the nodes it spawned) is killed
  const child = spawn(process.execPath, [file], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  current = child.pid
  const rows: string[] = []
  const lines: string[] = []
  let buffered = ''
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    buffered += chunk.toString('utf8')
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    for (const line of parts) {
      lines.push(line)
      if (line.trimStart().startsWith('|')) rows.push(line.trim())
    }
  })
  child.stderr.on('data', (chunk: Buffer) => { process.stderr.write(chunk) })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    try { process.kill(-(child.pid ?? 0), 'SIGTERM') } catch {}
    setTimeout(() => { try { process.kill(-(child.pid ?? 0), 'SIGKILL') } catch {} }, 10_000).unref()
  }, limitS * 1000)
  const code = await new Promise<number | null>(resolve => { child.once('close', c => { resolve(c) }) })
  clearTimeout(timer)
  current = undefined
  if (buffered !== '') {
    lines.push(buffered)
    if (buffered.trimStart().startsWith('|')) rows.push(buffered.trim())
  }
  const seconds = (performance.now() - started) / 1000
  // a benchmark that prints its figure as a sentence (http2-stream-floor) still gets a row
  if (rows.length === 0 && code === 0) {
    const lastLine = lines.filter(l => l.trim() !== '').pop()
    if (lastLine != null) rows.push(`| ${b.name}: ${lastLine.trim().replace(/\|/g, '/')} | | for reference | |`)
  }
  const status = timedOut ? `timed out after ${limitS} s` : code === 0 ? 'ok' : `failed (exit ${code ?? 'signal'})`
  return { bench: b, rows, seconds, status }
}

const outcomes: Outcome[] = []
for (const b of selected) outcomes.push(await run(b))

const cpus = os.cpus()
console.log(`\n## Benchmarks ${new Date().toISOString().slice(0, 10)}\n`)
console.log(`Machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
  `Node ${process.version}, ${os.type()} ${os.release()}; load average at the end ${os.loadavg().map(l => l.toFixed(2)).join(' ')}` +
  `${quick ? '; --quick (shortened runs)' : ''}\n`)
console.log('| figure | measured | target | |')
console.log('|---|---|---|---|')
for (const o of outcomes) {
  for (const r of o.rows) console.log(r)
  // pick-inprocess exits 1 when its target is missed, after printing its rows
  if (o.status !== 'ok') console.log(`| ${o.bench.name} | ${o.status} | | ${o.rows.length > 0 ? 'see the rows above' : 'NOT measured'} |`)
}
console.log(`\n${outcomes.map(o => `${o.bench.name} ${o.seconds.toFixed(0)} s (${o.status})`).join(', ')}`)
process.exit(outcomes.every(o => o.status === 'ok') ? 0 : 1)
