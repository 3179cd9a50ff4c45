import http2 from 'node:http2'
import { grpcFrame } from '../../node/api/encoded.js'

/** Options of one load run. */
export interface H2LoadOptions {
  /** host:port of the gRPC server */
  readonly addr: string
  /** full method path, e.g. /grapevine.v1.Registry/Discover */
  readonly path: string
  /** the serialized request message */
  readonly message: Buffer
  readonly inFlight: number
  readonly seconds: number
  /** HTTP/2 connections the in-flight calls are spread over */
  readonly connections: number
}

/** What a load run measured. */
export interface H2LoadResult {
  readonly ok: number
  readonly errors: number
  readonly elapsedS: number
  /** latency of each successful call, ms */
  readonly latencies: number[]
}

/**
 * A lean gRPC load generator over node:http2 (like h2load or ghz): it sends
 * one pre-framed request per call and checks `grpc-status: 0`, without
 * decoding answers. A grpc-js client spends more CPU per call than the
 * server; on two cores it, not the node, would be what gets measured.
 */
export async function h2Load (o: H2LoadOptions): Promise<H2LoadResult> {
  const frame = grpcFrame(o.message)
  const sessions = Array.from({ length: o.connections }, () => http2.connect(`http://${o.addr}`))
  const headers = { ':method': 'POST', ':path': o.path, 'content-type': 'application/grpc', te: 'trailers' }
  const latencies: number[] = []
  let errors = 0
  const end = performance.now() + o.seconds * 1000
  const call = async (session: http2.ClientHttp2Session): Promise<void> => {
    await new Promise<void>(resolve => {
      const t = performance.now()
      const req = session.request(headers, { endStream: false })
      let status: string | undefined
      req.on('trailers', (trailers: http2.IncomingHttpHeaders) => { status = String(trailers['grpc-status']) })
      req.on('response', (h: http2.IncomingHttpHeaders) => { if (h['grpc-status'] != null) status = String(h['grpc-status']) })
      req.on('data', () => {})
      req.on('close', () => {
        if (status === '0') latencies.push(performance.now() - t)
        else errors++
        resolve()
      })
      req.on('error', () => {})
      req.end(frame)
    })
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: o.inFlight }, async (_, k) => {
    const s = sessions[k % sessions.length]
    while (performance.now() < end) await call(s)
  }))
  const elapsedS = (performance.now() - t0) / 1000
  for (const s of sessions) s.close()
  return { ok: latencies.length, errors, elapsedS, latencies }
}
