import * as http from 'node:http'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import * as grpc from '@grpc/grpc-js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../../cluster/wait.js'
import { loadProtos } from '../../../node/api/protos.js'
import { DEFAULT_CHECK } from '../../../node/health/check-spec.js'
import type { CheckSpec } from '../../../node/health/check-spec.js'
import type { CheckTarget } from '../../../node/health/checkers/checker.js'
import { createGrpcCheck, GrpcClientPool } from '../../../node/health/checkers/grpc.js'
import { httpCheck, MAX_BODY_BYTES } from '../../../node/health/checkers/http.js'
import { tcpCheck } from '../../../node/health/checkers/tcp.js'

// Real servers on 127.0.0.1 port 0, toggled between healthy and broken during each test.

const HOST = '127.0.0.1'
const never = (): AbortSignal => new AbortController().signal

function httpSpec (h: Partial<NonNullable<CheckSpec['http']>> = {}, over: Partial<CheckSpec> = {}): CheckSpec {
  return { ...DEFAULT_CHECK, kind: 'http', timeoutMs: 2000, http: { path: '/healthz', method: 'GET', expectedStatus: 0, headers: {}, ...h }, ...over }
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, HOST, resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

describe('httpCheck against a real HTTP server', () => {
  type Mode = 'healthy' | 'unhealthy' | 'warning' | 'hanging' | 'endless' | 'slow-body' | 'status'
  let mode: Mode = 'healthy'
  let statusCode = 200
  const seen: Array<{ method?: string, url?: string, headers: http.IncomingHttpHeaders }> = []
  let endlessClosed = false
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers })
    switch (mode) {
      case 'healthy': res.writeHead(200, { 'content-type': 'text/plain' }).end('all good'); break
      case 'unhealthy': res.writeHead(500).end('database down'); break
      case 'warning': res.writeHead(429).end('slow down'); break
      case 'status': res.writeHead(statusCode, { location: '/elsewhere' }).end(); break
      case 'hanging': break // never answers
      case 'slow-body': res.writeHead(200).write('partial'); break // headers, then nothing
      case 'endless': {
        // writes for as long as the client reads: only a reader that stops can finish
        res.writeHead(200)
        const chunk = 'x'.repeat(1024)
        const pump = (): void => { while (res.write(chunk)); }
        res.on('drain', pump)
        res.on('close', () => { endlessClosed = true })
        pump()
        break
      }
    }
  })
  let target: CheckTarget

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
    target = { address: HOST, port: (server.address() as AddressInfo).port }
  })
  afterEach(() => {
    server.closeAllConnections()
    seen.length = 0
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('follows the server as it is toggled healthy → unhealthy → warning → healthy', async () => {
    mode = 'healthy'
    const a = await httpCheck(target, httpSpec(), never())
    expect(a).toEqual({ ok: true, output: `HTTP GET http://${HOST}:${target.port}/healthz: 200 OK\nall good` })

    mode = 'unhealthy'
    const b = await httpCheck(target, httpSpec(), never())
    expect(b.ok).toBe(false)
    expect(b.warning).toBeUndefined()
    expect(b.output).toContain('500 Internal Server Error\ndatabase down')

    mode = 'warning'
    const c = await httpCheck(target, httpSpec(), never())
    expect(c).toMatchObject({ ok: true, warning: true })
    expect(c.output).toContain('429 Too Many Requests')

    mode = 'healthy'
    expect((await httpCheck(target, httpSpec(), never())).ok).toBe(true)
    expect(seen.map((r) => r.url)).toEqual(['/healthz', '/healthz', '/healthz', '/healthz'])
  })

  it('fails a hanging server at its timeout', async () => {
    mode = 'hanging'
    const result = await httpCheck(target, httpSpec({}, { timeoutMs: 300 }), never())
    expect(result).toEqual({ ok: false, output: `HTTP GET http://${HOST}:${target.port}/healthz: timed out after 300 ms` })
    expect(seen).toHaveLength(1) // it did reach the server: a hang, not a refusal
  })

  it('stops when the caller aborts', async () => {
    mode = 'hanging'
    const ctl = new AbortController()
    setTimeout(() => { ctl.abort() }, 100)
    const result = await httpCheck(target, httpSpec({}, { timeoutMs: 5000 }), ctl.signal)
    expect(result.ok).toBe(false)
    expect(result.output).toMatch(/: aborted$/)
  })

  it('does not start when the signal is already aborted', async () => {
    mode = 'healthy'
    const ctl = new AbortController()
    ctl.abort()
    const result = await httpCheck(target, httpSpec(), ctl.signal)
    expect(result).toEqual({ ok: false, output: `HTTP GET http://${HOST}:${target.port}/healthz: aborted` })
  })

  it('reads at most 4 KB of an endless body and closes the connection', async () => {
    mode = 'endless'
    endlessClosed = false
    const result = await httpCheck(target, httpSpec({}, { timeoutMs: 5000 }), never())
    expect(result.ok).toBe(true)
    const body = result.output.slice(result.output.indexOf('\n') + 1)
    expect(body).toBe('x'.repeat(MAX_BODY_BYTES))
    expect(result.output).not.toContain('body cut')
    await waitFor(() => endlessClosed, { timeoutMs: 2000, message: 'the server sees the connection closed' })
  })

  it('decides on the status when the body stalls past the timeout (as Consul)', async () => {
    mode = 'slow-body'
    const result = await httpCheck(target, httpSpec({}, { timeoutMs: 300 }), never())
    expect(result.ok).toBe(true)
    expect(result.output).toContain('200 OK (body cut: timed out after 300 ms)\npartial')
  })

  it.each([
    { name: '204 passes by default', code: 204, expected: 0, ok: true },
    { name: '302 fails: redirects are not followed', code: 302, expected: 0, ok: false },
    { name: '302 passes when expected', code: 302, expected: 302, ok: true },
    { name: '200 fails when 204 is expected', code: 200, expected: 204, ok: false },
    { name: '503 fails', code: 503, expected: 0, ok: false }
  ])('$name', async ({ code, expected, ok }) => {
    mode = 'status'
    statusCode = code
    const result = await httpCheck(target, httpSpec({ expectedStatus: expected }), never())
    expect(result.ok).toBe(ok)
    expect(result.output).toContain(`: ${code} `)
  })

  it('sends the method and headers of the spec', async () => {
    mode = 'healthy'
    await httpCheck(target, httpSpec({ method: 'POST', path: '/ready?deep=1', headers: { 'X-Check': 'yes', 'user-agent': 'custom' } }), never())
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/ready?deep=1' })
    expect(seen[0].headers['x-check']).toBe('yes')
    expect(seen[0].headers['user-agent']).toBe('custom')
    expect(seen[0].headers.connection).toBe('close')
  })

  it('sends a default user agent and HEAD without a body', async () => {
    mode = 'healthy'
    const result = await httpCheck(target, httpSpec({ method: 'HEAD' }), never())
    expect(result).toEqual({ ok: true, output: `HTTP HEAD http://${HOST}:${target.port}/healthz: 200 OK` })
    expect(seen[0]).toMatchObject({ method: 'HEAD' })
    expect(seen[0].headers['user-agent']).toBe('Grapevine Health Check')
  })

  it('uses the url as given, not the target', async () => {
    mode = 'healthy'
    const url = `http://${HOST}:${target.port}/via-url`
    const result = await httpCheck({ address: HOST, port: await closedPort() }, httpSpec({ url, path: undefined }), never())
    expect(result.ok).toBe(true)
    expect(seen.map((r) => r.url)).toEqual(['/via-url'])
  })

  it('sends the Host header of the target on a path check', async () => {
    mode = 'healthy'
    await httpCheck(target, httpSpec(), never())
    expect(seen[0].headers.host).toBe(`${HOST}:${target.port}`)
  })

  it('keeps the query and credentials of a url check', async () => {
    mode = 'healthy'
    const url = `http://ops:s%40cret@${HOST}:${target.port}/deep?x=1`
    await httpCheck(target, httpSpec({ url, path: undefined }), never())
    expect(seen[0].url).toBe('/deep?x=1')
    expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from('ops:s@cret').toString('base64')}`)
  })

  it('fails a refused connection without throwing', async () => {
    const port = await closedPort()
    const result = await httpCheck({ address: HOST, port }, httpSpec(), never())
    expect(result.ok).toBe(false)
    expect(result.output).toContain('ECONNREFUSED')
  })
})

describe('tcpCheck against a real listener', () => {
  let server: net.Server | undefined
  const closedByPeer: boolean[] = []

  async function open (port = 0): Promise<number> {
    server = net.createServer((socket) => {
      socket.on('end', () => { closedByPeer.push(true); socket.end() })
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => server?.listen(port, HOST, resolve))
    return (server.address() as AddressInfo).port
  }
  async function close (): Promise<void> {
    const s = server
    server = undefined
    if (s != null) await new Promise<void>((resolve) => s.close(() => resolve()))
  }
  afterAll(close)

  const spec: CheckSpec = { ...DEFAULT_CHECK, kind: 'tcp', timeoutMs: 1000 }

  it('passes while the listener is open, fails once it is closed, passes again when reopened', async () => {
    const port = await open()
    const a = await tcpCheck({ address: HOST, port }, spec, never())
    expect(a).toEqual({ ok: true, output: `TCP connect ${HOST}:${port}: success` })
    // connect then close: the listener sees the checker hang up
    await waitFor(() => closedByPeer.length === 1, { timeoutMs: 2000, message: 'the checker closes its connection' })

    await close()
    const b = await tcpCheck({ address: HOST, port }, spec, never())
    expect(b.ok).toBe(false)
    expect(b.output).toContain('ECONNREFUSED')

    await open(port)
    expect((await tcpCheck({ address: HOST, port }, spec, never())).ok).toBe(true)
  })

  it('fails at once on an aborted signal', async () => {
    const port = await closedPort()
    const ctl = new AbortController()
    ctl.abort()
    expect(await tcpCheck({ address: HOST, port }, spec, ctl.signal)).toEqual({ ok: false, output: `TCP connect ${HOST}:${port}: aborted` })
  })

  it('fails on a bad port without throwing', async () => {
    const result = await tcpCheck({ address: HOST, port: 70_000 }, spec, never())
    expect(result.ok).toBe(false)
    expect(result.output).toMatch(/TCP connect 127\.0\.0\.1:70000: .+/)
  })
})

describe('grpcCheck against a real grpc.health.v1 server', () => {
  /** A hand-written Health service whose statuses the test sets; `hang` never answers. */
  class HealthServer {
    readonly statuses = new Map<string, string>([['', 'SERVING']])
    readonly peers = new Set<string>()
    hang = false
    /** while set, answers wait for it */
    held: Promise<void> | undefined
    server: grpc.Server | undefined
    port = 0

    async start (port = 0): Promise<void> {
      const Health = (loadProtos().grpcObject as any).grpc.health.v1.Health as grpc.ServiceClientConstructor
      const server = new grpc.Server()
      server.addService(Health.service, {
        Check: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
          this.peers.add(call.getPeer())
          if (this.hang) return
          const status = this.statuses.get(call.request.service)
          const answer = (): void => {
            if (status == null) cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' })
            else cb(null, { status })
          }
          if (this.held != null) void this.held.then(answer)
          else answer()
        },
        Watch: (call: grpc.ServerWritableStream<any, any>) => { call.end() }
      })
      this.port = await new Promise<number>((resolve, reject) => {
        server.bindAsync(`${HOST}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => { err != null ? reject(err) : resolve(p) })
      })
      this.server = server
    }

    stop (): void {
      this.server?.forceShutdown()
      this.server = undefined
    }

    get target (): CheckTarget {
      return { address: HOST, port: this.port }
    }
  }

  const spec = (service = '', timeoutMs = 1000): CheckSpec => ({ ...DEFAULT_CHECK, kind: 'grpc', grpc: { service }, timeoutMs })
  const servers: HealthServer[] = []
  const pools: GrpcClientPool[] = []
  async function serve (): Promise<HealthServer> {
    const s = new HealthServer()
    await s.start()
    servers.push(s)
    return s
  }
  function pool (init: ConstructorParameters<typeof GrpcClientPool>[0] = {}): { pool: GrpcClientPool, check: ReturnType<typeof createGrpcCheck> } {
    const p = new GrpcClientPool(init)
    pools.push(p)
    return { pool: p, check: createGrpcCheck(p) }
  }
  afterEach(() => {
    for (const p of pools.splice(0)) p.close()
    for (const s of servers.splice(0)) s.stop()
  })

  it('follows SERVING → NOT_SERVING → SERVING on one reused channel', async () => {
    const s = await serve()
    const { pool: p, check } = pool()
    expect(await check(s.target, spec(), never())).toEqual({ ok: true, output: `gRPC check ${HOST}:${s.port} service "": SERVING` })
    s.statuses.set('', 'NOT_SERVING')
    expect(await check(s.target, spec(), never())).toEqual({ ok: false, output: `gRPC check ${HOST}:${s.port} service "": NOT_SERVING` })
    s.statuses.set('', 'SERVING')
    for (let i = 0; i < 3; i++) expect((await check(s.target, spec(), never())).ok).toBe(true)
    expect(p.size).toBe(1)
    expect(s.peers.size).toBe(1) // five calls, one connection
  })

  it('asks about the named service', async () => {
    const s = await serve()
    const { check } = pool()
    s.statuses.set('', 'NOT_SERVING')
    s.statuses.set('shop.v1.Cart', 'SERVING')
    expect((await check(s.target, spec('shop.v1.Cart'), never())).ok).toBe(true)
    const unknown = await check(s.target, spec('shop.v1.Nope'), never())
    expect(unknown.ok).toBe(false)
    expect(unknown.output).toContain('NOT_FOUND: unknown service')
    s.statuses.set('shop.v1.Cart', 'SERVICE_UNKNOWN')
    expect((await check(s.target, spec('shop.v1.Cart'), never())).ok).toBe(false)
  })

  it('fails a hanging server at its timeout and drops the channel', async () => {
    const s = await serve()
    const { pool: p, check } = pool()
    s.hang = true
    const result = await check(s.target, spec('', 300), never())
    expect(result.ok).toBe(false)
    expect(result.output).toMatch(/timed out after 300 ms|DEADLINE_EXCEEDED/)
    expect(p.size).toBe(0)
  })

  it('fails once the server stops and passes on a fresh channel when it is back', async () => {
    const s = await serve()
    const { pool: p, check } = pool()
    expect((await check(s.target, spec(), never())).ok).toBe(true)
    s.stop()
    const down = await check(s.target, spec(), never())
    expect(down.ok).toBe(false)
    expect(down.output).toContain('UNAVAILABLE')
    expect(p.size).toBe(0)

    await s.start(s.port)
    await waitFor(async () => (await check(s.target, spec(), never())).ok, { timeoutMs: 5000, message: 'the restarted server passes' })
    expect(p.size).toBe(1)
  })

  it('fails a refused target without throwing', async () => {
    const { check } = pool()
    const result = await check({ address: HOST, port: await closedPort() }, spec(), never())
    expect(result.ok).toBe(false)
    expect(result.output).toContain('UNAVAILABLE')
  })

  it('fails at once on an aborted signal', async () => {
    const s = await serve()
    const { check } = pool()
    const ctl = new AbortController()
    ctl.abort()
    expect(await check(s.target, spec(), ctl.signal)).toEqual({ ok: false, output: `gRPC check ${HOST}:${s.port} service "": aborted` })
    expect(s.peers.size).toBe(0)
  })

  it('closes the least recently used channel beyond maxClients', async () => {
    const a = await serve()
    const b = await serve()
    const { pool: p, check } = pool({ maxClients: 1 })
    expect((await check(a.target, spec(), never())).ok).toBe(true)
    expect((await check(b.target, spec(), never())).ok).toBe(true)
    expect(p.size).toBe(1)
    expect((await check(a.target, spec(), never())).ok).toBe(true)
    expect(a.peers.size).toBe(2) // a's first channel was closed when b's was opened
    expect(b.peers.size).toBe(1)
  })

  it('never closes a channel under a run in flight', async () => {
    const a = await serve()
    const b = await serve()
    const { pool: p, check } = pool({ maxClients: 1 })
    // a answers only once b's check is done, however long that takes
    let release!: () => void
    a.held = new Promise<void>(resolve => { release = resolve })
    const slow = check(a.target, spec(), never())
    await waitFor(() => a.peers.size === 1, { timeoutMs: 2000, intervalMs: 10, message: 'the call to a is in flight' })
    // b's channel opens while a's is in use: over maxClients, b's (the only idle one) goes when its run ends
    expect((await check(b.target, spec(), never())).ok).toBe(true)
    release()
    expect(await slow).toEqual({ ok: true, output: `gRPC check ${HOST}:${a.port} service "": SERVING` })
    expect(p.size).toBe(1)
    a.held = undefined
    expect((await check(a.target, spec(), never())).ok).toBe(true)
    expect(a.peers.size).toBe(1) // a's channel survived
  })

  it('closes channels left idle', async () => {
    const s = await serve()
    const { pool: p, check } = pool({ idleMs: 200 })
    expect((await check(s.target, spec(), never())).ok).toBe(true)
    expect(p.size).toBe(1)
    await waitFor(() => p.size === 0, { timeoutMs: 3000, intervalMs: 20, message: 'the idle channel is closed' })
    expect((await check(s.target, spec(), never())).ok).toBe(true)
    expect(s.peers.size).toBe(2)
  })
})
