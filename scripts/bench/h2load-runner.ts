import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { H2LoadOptions } from './h2-load.js'
import { grpcFrame } from '../../node/api/encoded.js'

/** What h2load reported. */
export interface H2loadReport {
  readonly reqPerS: number
  readonly succeeded: number
  readonly failed: number
  /** mean time per request, ms */
  readonly meanMs: number
}

let warned = false

/**
 * True when nghttp2's h2load is on PATH (Debian: apt-get install
 * nghttp2-client). When it is not, says so once, on stderr: the fallback
 * load comes from Node processes on the nodes' own two cores, and a fresh
 * machine has no h2load (Register throughput was 3,197/s with the fallback
 * against 5,117/s with h2load, minutes apart).
 */
export async function hasH2load (): Promise<boolean> {
  const found = await new Promise<boolean>(resolve => { execFile('h2load', ['--version'], err => { resolve(err == null) }) })
  if (!found && !warned) {
    warned = true
    console.error('warning: h2load is not on the PATH (apt-get install nghttp2-client); the load falls back to Node clients, ' +
      'which share the nodes\' two cores: throughput figures come out lower than with h2load')
  }
  return found
}

/**
 * Runs h2load, the C load generator of nghttp2, with a pre-framed gRPC
 * request: it costs the machine far less per call than any Node client, so
 * on two cores the server, not the client, is what gets measured.
 */
export async function runH2load (o: H2LoadOptions): Promise<H2loadReport> {
  const frame = grpcFrame(o.message)
  const body = path.join(tmpdir(), `grapevine-h2load-${process.pid}.bin`)
  await writeFile(body, frame)
  const perConn = Math.max(1, Math.round(o.inFlight / o.connections))
  const args = ['-D', String(o.seconds), '-c', String(o.connections), '-m', String(perConn),
    '-H', 'content-type: application/grpc', '-H', 'te: trailers', '-d', body, `http://${o.addr}${o.path}`]
  const out = await new Promise<string>((resolve, reject) => {
    execFile('h2load', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => { err != null ? reject(err) : resolve(stdout) })
  })
  const rate = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)
  const reqs = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(out)
  const mean = /time for request:\s+\S+\s+\S+\s+(\S+)/.exec(out)
  if (rate == null || reqs == null) throw new Error(`cannot read h2load's output:\n${out}`)
  return { reqPerS: Number(rate[1]), succeeded: Number(reqs[1]), failed: Number(reqs[2]), meanMs: mean == null ? NaN : toMs(mean[1]) }
}

function toMs (v: string): number {
  const n = Number.parseFloat(v)
  return v.endsWith('us') ? n / 1000 : v.endsWith('ms') ? n : n * 1000
}
