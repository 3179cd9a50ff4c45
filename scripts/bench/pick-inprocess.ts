/**
 * In-process pick throughput of every strategy over 100 instances: no
 * network, no registry, just `picker.pick()` in a loop for about a second
 * each. Round robin must reach 1,000,000 picks/s; the others are reported.
 */
import { performance } from 'node:perf_hooks'
import { createStrategyOptions } from '../../node/balancer/picker.js'
import type { PickRequest } from '../../node/balancer/picker.js'
import { buildPicker, STRATEGIES } from '../../node/balancer/registry.js'
import type { InstanceRecord } from '../../node/registry/types.js'

const INSTANCES = 100
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1)
const BATCH = 100_000
const TARGET = 1_000_000

const instances: InstanceRecord[] = Array.from({ length: INSTANCES }, (_, i) => ({
  service: 'bench',
  instanceId: `inst-${String(i).padStart(3, '0')}`,
  address: `10.0.${i >> 8}.${i & 255}`,
  port: 8000 + i,
  protocol: 'grpc',
  version: '1.0.0',
  tags: [],
  metadata: {},
  weight: 50 + (i % 10) * 50,
  zone: `z${i % 3}`,
  status: 'PASSING',
  ownerNode: 'bench',
  registeredAtMs: 0,
  updatedAtMs: 0,
  ttlMs: 30_000
}))
const loads = new Map(instances.map((r, i) => [r, (i * 7) % 13]))
const opts = createStrategyOptions({ loadOf: r => loads.get(r) ?? 0 })
// 1,024 distinct requests: hash strategies hash a real key, locality has a zone
const requests: PickRequest[] = Array.from({ length: 1024 }, (_, i) => ({ hashKey: `user-${i}`, clientZone: `z${i % 3}` }))

/** Picks per second of one strategy, after a warm-up; `sink` defeats dead-code elimination. */
function measure (name: string): { perS: number, sink: number } {
  const picker = buildPicker(name, instances, opts)
  let sink = 0
  for (let i = 0; i < BATCH; i++) sink += picker.pick(requests[i & 1023])?.instance.port ?? 0
  let picks = 0
  const start = performance.now()
  let elapsedMs = 0
  while (elapsedMs < SECONDS * 1000) {
    for (let i = 0; i < BATCH; i++) sink += picker.pick(requests[i & 1023])?.instance.port ?? 0
    picks += BATCH
    elapsedMs = performance.now() - start
  }
  return { perS: (picks / elapsedMs) * 1000, sink }
}

let failed = false
let sink = 0
for (const name of STRATEGIES.keys()) {
  const r = measure(name)
  sink += r.sink
  if (name === 'round_robin' && r.perS < TARGET) failed = true
  console.log(`| in-process picks/s, ${name}, ${INSTANCES} instances | ${Math.round(r.perS).toLocaleString('en-US')}/s | ≥ 1,000,000/s (round robin) |`)
}
if (sink === 0) console.log('(no picks)')
if (failed) {
  console.error('round_robin is below 1,000,000 picks/s')
  process.exitCode = 1
}
