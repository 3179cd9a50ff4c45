/**
 * The HTTP check (Consul's): one request on a fresh connection, closed after.
 * 2xx (or the expected status) passes, 429 Too Many Requests warns, anything
 * else fails. Redirects are not followed: a 3xx fails unless it is expected.
 */
import * as http from 'node:http'
import * as https from 'node:https'
import { urlToHttpOptions } from 'node:url'
import type { CheckSpec } from '../check-spec.js'
import { deadline, describeError, hostPort } from './checker.js'
import type { CheckResult, CheckTarget, Deadline } from './checker.js'

/** Body bytes kept for the output; the rest is never read (Consul keeps 4 KB too). */
export const MAX_BODY_BYTES = 4096

// As Consul: identify the checker, ask for text. The spec's headers override these.
const DEFAULT_HEADERS: Readonly<Record<string, string>> = {
  'User-Agent': 'Grapevine Health Check',
  Accept: 'text/plain, text/*, */*'
}

type HttpSpec = NonNullable<CheckSpec['http']>

/** The URL a check requests: `url` as given, else `http://address:port{path}`. */
export function checkUrl (target: CheckTarget, h: HttpSpec | undefined): string {
  return h?.url ?? `http://${hostPort(target)}${h?.path ?? '/'}`
}

/** The HTTP checker; never throws. */
export async function httpCheck (target: CheckTarget, spec: CheckSpec, signal: AbortSignal): Promise<CheckResult> {
  const h: HttpSpec = spec.http ?? { path: '/', method: 'GET', expectedStatus: 0, headers: {} }
  const url = checkUrl(target, h)
  const d = deadline(signal, spec.timeoutMs)
  try {
    return await request(target, url, h, d)
  } catch (err) {
    return { ok: false, output: `HTTP ${h.method} ${url}: ${describeError(err)}` }
  } finally {
    d.dispose()
  }
}

function request (target: CheckTarget, url: string, h: HttpSpec, d: Deadline): Promise<CheckResult> {
  const prefix = `HTTP ${h.method} ${url}`
  const { client, options } = requestOptions(target, url, h)
  return new Promise((resolve) => {
    let status = 0
    let statusText = ''
    let kept = 0
    const chunks: Buffer[] = []
    let done = false
    const answered = (note = ''): CheckResult => {
      const body = Buffer.concat(chunks).toString('utf8')
      return { ...verdict(status, h.expectedStatus), output: `${prefix}: ${status} ${statusText}${note}${body === '' ? '' : '\n' + body}` }
    }
    const finish = (result: CheckResult): void => {
      if (done) return
      done = true
      d.signal.removeEventListener('abort', onAbort)
      // Frees the socket whether the body was read to its end or cut at 4 KB.
      req.destroy()
      resolve(result)
    }
    // Headers already in: the status decides, as in Consul, which logs a failed body read and keeps the status.
    const onAbort = (): void => {
      finish(status !== 0 ? answered(` (body cut: ${d.reason()})`) : { ok: false, output: `${prefix}: ${d.reason()}` })
    }
    const req = client.request(options, (res) => {
      status = res.statusCode ?? 0
      statusText = res.statusMessage ?? ''
      res.on('data', (chunk: Buffer) => {
        if (done) return
        const room = MAX_BODY_BYTES - kept
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk)
        kept += Math.min(chunk.length, room)
        if (kept >= MAX_BODY_BYTES) finish(answered())
      })
      res.on('end', () => finish(answered()))
      // 'close' without 'end': the target hung up mid-body (after 'end', finish has already run).
      res.on('error', () => finish(answered(' (body cut: connection lost)')))
      res.on('close', () => finish(answered(' (body cut: connection lost)')))
    })
    req.on('error', (err) => finish({ ok: false, output: `${prefix}: ${describeError(err)}` }))
    if (d.signal.aborted) onAbort()
    else d.signal.addEventListener('abort', onAbort, { once: true })
    req.end()
  })
}

/**
 * The request's options. A path check (the common case) needs no URL parse:
 * at 10k checks every 10 s, per-run parsing and header merging showed in the
 * node's profile. agent: false, a connection per run (as Consul): the check
 * also proves the instance accepts new connections.
 */
function requestOptions (target: CheckTarget, url: string, h: HttpSpec): { client: typeof http | typeof https, options: http.RequestOptions } {
  const headers = Object.keys(h.headers).length === 0 ? DEFAULT_HEADERS : { ...DEFAULT_HEADERS, ...h.headers }
  if (h.url === undefined) {
    return { client: http, options: { host: target.address, port: target.port, path: h.path ?? '/', method: h.method, headers, agent: false } }
  }
  const parsed = new URL(url)
  return { client: parsed.protocol === 'https:' ? https : http, options: { ...urlToHttpOptions(parsed), method: h.method, headers, agent: false } }
}

function verdict (status: number, expected: number): { ok: boolean, warning?: boolean } {
  if (expected !== 0 ? status === expected : status >= 200 && status < 300) return { ok: true }
  // Consul: 429 means up but shedding load, served as WARNING rather than dropped.
  if (status === 429) return { ok: true, warning: true }
  return { ok: false }
}
