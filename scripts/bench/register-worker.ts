import http2 from 'node:http2'
import { monoMs } from './bench-util.js'
import { grpcHeaders, leanUnary } from './lean-grpc.js'

/**
 * A forked load worker for Register (see register-pool.ts). It sends one
 * pre-encoded RegisterRequest per call over node:http2, writing the call's
 * number as fixed-width digits into the instance_id bytes of a template, so
 * every call registers a NEW instance at the cost of a buffer copy (h2load
 * would send the same body every time: one instance upserted over and over).
 * A call counts as done when its trailers say grpc-status 0.
 */

/** One load job: `count` calls (ids first..first+count-1), until done or `seconds` pass. */
export interface RegisterJob {
  /** "127.0.0.1:port" of the node's gRPC API */
  readonly addr: string
  readonly path: string
  /** base64 of the serialized RegisterRequest template */
  readonly template: string
  /** offset and width of the digits to patch in the template */
  readonly idOffset: number
  readonly idWidth: number
  readonly first: number
  readonly count: number
  /** 0: until count calls are done (bounded by `maxSeconds`) */
  readonly seconds: number
  readonly maxSeconds: number
  readonly inFlight: number
  /** HTTP/2 connections the calls are spread over */
  readonly connections: number
  /** each call's own deadline */
  readonly callTimeoutMs: number
  /**
   * A failed call is sent again (same instance id: Register is an upsert, so
   * a retry never adds a second instance) up to this many times, so the
   * number of instances registered is exactly the number of ids sent.
   */
  readonly retries: number
}

/** What one job measured; times are monoMs(). */
export interface RegisterJobResult {
  readonly ok: number
  /** ids that failed every attempt (registered or not: unknown) */
  readonly errors: number
  /** failed attempts that were retried */
  readonly retried: number
  readonly firstError?: string
  readonly startedAt: number
  readonly lastAnswerAt: number
  /** sorted latencies are too many to ship; a few percentiles, ms */
  readonly p50: number
  readonly p99: number
}

type Msg = { cmd: 'run', id: number, jobs: RegisterJob[] } | { cmd: 'exit' }

async function runJob (job: RegisterJob): Promise<RegisterJobResult> {
  const template = Buffer.from(job.template, 'base64')
  const headers = grpcHeaders(job.path)
  const sessions = Array.from({ length: job.connections }, () => {
    const s = http2.connect(`http://${job.addr}`)
    s.on('error', () => {})
    return s
  })
  const latencies: number[] = []
  let ok = 0
  let errors = 0
  let retried = 0
  let firstError: string | undefined
  let lastAnswerAt = 0
  let next = 0
  const startedAt = monoMs()
  const stopAt = startedAt + 1000 * (job.seconds > 0 ? Math.min(job.seconds, job.maxSeconds) : job.maxSeconds)
  // one attempt: true when the node answered grpc-status 0
  const call = async (session: http2.ClientHttp2Session, n: number): Promise<boolean> => {
    const body = Buffer.from(template)
    body.write(String(job.first + n).padStart(job.idWidth, '0'), job.idOffset, job.idWidth, 'latin1')
    const t = monoMs()
    try {
      await leanUnary(session, headers, body, job.callTimeoutMs)
    } catch (err) {
      firstError ??= err instanceof Error ? err.message : String(err)
      return false
    }
    const at = monoMs()
    latencies.push(at - t)
    if (at > lastAnswerAt) lastAnswerAt = at
    return true
  }
  // a session the node closed (GOAWAY, reset) is replaced for the next attempt
  const sessionFor = (lane: number): http2.ClientHttp2Session => {
    const k = lane % sessions.length
    if (sessions[k].closed || sessions[k].destroyed) {
      sessions[k] = http2.connect(`http://${job.addr}`)
      sessions[k].on('error', () => {})
    }
    return sessions[k]
  }
  await Promise.all(Array.from({ length: job.inFlight }, async (_, lane) => {
    // bounded by count, by time, and by errors (a dead node must not spin the loop)
    while (next < job.count && monoMs() < stopAt && errors < 100) {
      const n = next++
      let done = false
      for (let attempt = 0; attempt <= job.retries && !done; attempt++) {
        if (attempt > 0) {
          retried++
          await new Promise(resolve => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)))
        }
        done = await call(sessionFor(lane), n)
      }
      if (done) ok++
      else errors++
    }
  }))
  for (const s of sessions) s.close()
  latencies.sort((a, b) => a - b)
  const pick = (p: number): number => latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]
  return { ok, errors, retried, ...(firstError != null ? { firstError } : {}), startedAt, lastAnswerAt, p50: pick(50), p99: pick(99) }
}

process.on('message', (msg: Msg) => {
  if (msg.cmd === 'exit') process.exit(0)
  if (msg.cmd === 'run') {
    Promise.all(msg.jobs.map(runJob)).then(
      results => { process.send?.({ id: msg.id, results }) },
      err => { process.send?.({ id: msg.id, error: err instanceof Error ? err.stack : String(err) }) }
    )
  }
})
// the parent went away: do not linger
process.on('disconnect', () => { process.exit(0) })
process.send?.({ ready: true })
