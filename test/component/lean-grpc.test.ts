import http2 from 'node:http2'
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../cluster/wait.js'
import { connect, unary } from '../../client/client.js'
import type { GrapevineClients } from '../../client/client.js'
import { Encoded } from '../../node/api/encoded.js'
import { leanCallsServed, serveLean } from '../../node/api/lean-grpc.js'
import type { StreamOut } from '../../node/api/stream-out.js'
import { loadProtos } from '../../node/api/protos.js'
import { bind } from '../../node/api/server.js'
import { InvalidArgumentError } from '../../node/errors.js'
import { unary as handlerOf } from '../../node/api/registry-service.js'
import { silentLogger } from '../unit/registry-fixtures.js'

const MAX = 64 * 1024
const service = (loadProtos().grpcObject as any).grapevine.v1.Registry.service as grpc.ServiceDefinition
const discover = service.Discover

/** A grpc-js server whose Discover is lean: it echoes the service asked for, fails on "bad", answers "slow" after 100 ms. */
async function startServer (): Promise<{ server: grpc.Server, addr: string }> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX })
  const log = silentLogger
  const handlers = {
    Discover: handlerOf(req => {
      if (req.service === 'bad') throw new InvalidArgumentError('service', 'must not be "bad"')
      // 63 characters and half of an emoji: what clipping a client's text in the middle of a pair left
      if (req.service === 'odd') throw new InvalidArgumentError('strategy', `unknown "100% ${'x'.repeat(50)}é \ud83d"`)
      const answer = { instances: [{ service: req.service, instance_id: 'i1', address: '10.0.0.1', port: 80 }] }
      return req.service === 'slow' ? new Promise(resolve => setTimeout(() => { resolve(answer) }, 100)) : answer
    }, log),
    Register: handlerOf(req => ({ instance: req.instance }), log)
  }
  // Pick is a handler that misbehaves: it throws at once ("now"), answers what its serializer cannot
  // encode ("later"), answers twice ("twice"), or fails with a code that is not one ("weird")
  const Pick: grpc.handleUnaryCall<any, any> = (call, cb) => {
    const svc = call.request.service
    if (svc === 'now') throw new Error('boom')
    if (svc === 'twice') {
      cb(null, { instance: { service: 'first' } })
      cb({ code: grpc.status.INTERNAL, details: 'second' }, null)
      return
    }
    if (svc === 'weird') return cb({ code: 'weird' as unknown as number, details: 'odd code' }, null)
    setTimeout(() => { cb(null, { instance: 'not an Instance' }) }, 5)
  }
  server.addService(service, { ...handlers, Pick, Watch: () => { throw new Error('Watch must take the lean path') } })
  serveLean(server, { unary: [{ ...discover, handler: handlers.Discover }, { ...service.Pick, handler: Pick }], serverStream: [{ ...service.Watch, open: openWatchForTest }] }, MAX)
  const port = await bind(server, '127.0.0.1', 0)
  return { server, addr: `127.0.0.1:${port}` }
}

/** Watches that ended on the server, by service asked for. */
const closedWatches = new Set<string>()
const event = (id: string, pad = ''): Encoded => new Encoded(service.Watch.responseSerialize({ type: 'UPSERT', instance: { service: 'w', instance_id: id, metadata: { pad } } }))
// 4 KB events: 16 of them fill a stream's 64 KB window
const PAD = 'x'.repeat(4096)
// 800 KB: far more than a stream's window and the buffers on both sides
const FLOOD_EVENTS = 200
/** How many events the flood's server wrote so far. */
const flood = { written: 0 }

/**
 * Watch for the test, by the service asked for: "three" sends 3 events and
 * stays open; "fail-late" sends 1 then fails; "fail-early" fails at once;
 * "flood" writes FLOOD_EVENTS 4 KB events as fast as the stream takes them,
 * then ends with status OK.
 */
function openWatchForTest (request: unknown, out: StreamOut): void {
  const svc = (request as { service: string }).service
  out.onClose(() => { closedWatches.add(svc) })
  if (svc === 'fail-early') return out.fail({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'too far behind: resume' })
  if (svc === 'fail-late') {
    out.write(event('one'))
    return out.fail({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'too far behind: resume' })
  }
  if (svc === 'flood') {
    // as the watch hub does: write until full, go on once drained
    const pump = (): void => {
      while (flood.written < FLOOD_EVENTS) {
        if (!out.write(event(`f${flood.written++}`, PAD))) return out.onDrain(pump)
      }
      out.fail({ code: grpc.status.OK, details: 'all sent' })
    }
    return pump()
  }
  for (const id of ['a', 'b', 'c']) out.write(event(id))
}

/** How a raw call sends its body: at once, a byte a DATA frame, or without ever ending the request. */
type Send = 'whole' | 'trickle' | 'open'

interface RawAnswer { status?: number, grpcStatus?: string, grpcMessage?: string, data: Buffer, rstCode?: number }

/** One raw HTTP/2 call: what the server answered, headers and trailers merged, and the reset code when it was reset. */
async function rawCall (addr: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}, send: Send = 'whole'): Promise<RawAnswer> {
  const session = http2.connect(`http://${addr}`)
  session.on('error', () => {})
  try {
    return await new Promise(resolve => {
      const req = session.request({ ':method': 'POST', ':path': discover.path, 'content-type': 'application/grpc', te: 'trailers', ...headers })
      const out: RawAnswer = { data: Buffer.alloc(0) }
      const take = (h: http2.IncomingHttpHeaders): void => {
        if (h[':status'] != null) out.status = Number(h[':status'])
        if (h['grpc-status'] != null) out.grpcStatus = String(h['grpc-status'])
        if (h['grpc-message'] != null) out.grpcMessage = decodeURI(String(h['grpc-message']))
        // a request never ended stays open after the answer: the client gives up once it has the status
        if (send === 'open' && out.grpcStatus != null) req.close()
      }
      req.on('response', take)
      req.on('trailers', take)
      req.on('data', (c: Buffer) => { out.data = Buffer.concat([out.data, c]) })
      // a reset stream errs, then closes: the close has the code
      req.on('error', () => {})
      req.on('close', () => { resolve(req.rstCode === http2.constants.NGHTTP2_NO_ERROR ? out : { ...out, rstCode: req.rstCode }) })
      if (send === 'whole') req.end(body)
      else if (send === 'open') req.write(body)
      else void trickle(req, body)
    })
  } finally {
    session.close()
  }
}

// each write on a tick of its own: one DATA frame each
async function trickle (req: http2.ClientHttp2Stream, body: Buffer): Promise<void> {
  for (let i = 0; i < body.length && !req.destroyed; i++) {
    req.write(body.subarray(i, i + 1))
    await new Promise(resolve => setImmediate(resolve))
  }
  if (!req.destroyed) req.end()
}

/** A gRPC message frame: flag, length, bytes. */
function frame (message: Buffer, flag = 0, length = message.length): Buffer {
  const head = Buffer.alloc(5)
  head[0] = flag
  head.writeUInt32BE(length, 1)
  return Buffer.concat([head, message])
}

const request = (svc: string): Buffer => discover.requestSerialize({ service: svc })

describe('lean gRPC path', () => {
  let server: grpc.Server
  let addr: string
  let clients: GrapevineClients

  beforeAll(async () => {
    ({ server, addr } = await startServer())
    clients = connect(addr)
  })
  afterAll(() => {
    clients.close()
    server.forceShutdown()
  })

  it('answers a grpc-js client as grpc-js would, and counts the call as lean', async () => {
    const before = leanCallsServed()
    const res = await unary<{ instances: Array<{ service: string, instance_id: string, port: number }> }>(clients.registry, 'Discover', { service: 'web' })
    expect(res.instances).toEqual([expect.objectContaining({ service: 'web', instance_id: 'i1', port: 80 })])
    expect(leanCallsServed()).toBe(before + 1)
  })

  it('answers after an asynchronous handler', async () => {
    const res = await unary<{ instances: Array<{ service: string }> }>(clients.registry, 'Discover', { service: 'slow' })
    expect(res.instances[0].service).toBe('slow')
  })

  it('sends a handler error as its status and details', async () => {
    const err = await unary(clients.registry, 'Discover', { service: 'bad' }).catch((e: grpc.ServiceError) => e)
    expect(err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'service: must not be "bad"' })
  })

  it('sends a status text with non-ASCII, "%" and half a surrogate pair, made well-formed', async () => {
    const err = await unary(clients.registry, 'Discover', { service: 'odd' }).catch((e: grpc.ServiceError) => e)
    expect(err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: `strategy: unknown "100% ${'x'.repeat(50)}é \ufffd"` })
  })

  it.each([
    ['throws', 'now', grpc.status.UNKNOWN, 'Unknown error'],
    ['answers what cannot be encoded', 'later', grpc.status.INTERNAL, 'Error serializing response'],
    ['fails with a code that is not one', 'weird', grpc.status.UNKNOWN, 'odd code']
  ])('answers as grpc-js does when a handler %s, and keeps serving', async (_what, svc, code, details) => {
    const err = await unary(clients.registry, 'Pick', { service: svc }).catch((e: grpc.ServiceError) => e)
    expect(err).toMatchObject({ code, details })
    const ok = await unary<{ instances: Array<{ service: string }> }>(clients.registry, 'Discover', { service: 'after' })
    expect(ok.instances[0].service).toBe('after')
  })

  it('sends the first of two answers a handler gives', async () => {
    const res = await unary<{ instance: { service: string } }>(clients.registry, 'Pick', { service: 'twice' })
    expect(res.instance.service).toBe('first')
  })

  it('leaves other methods to grpc-js', async () => {
    const before = leanCallsServed()
    const res = await unary<{ instance: { service: string } }>(clients.registry, 'Register', { instance: { service: 'x', address: 'a', port: 1 } })
    expect(res.instance.service).toBe('x')
    expect(leanCallsServed()).toBe(before)
  })

  it('leaves a compressed call to grpc-js, which answers it', async () => {
    const gzip = connect(addr, { 'grpc.default_compression_algorithm': 2, 'grpc.use_local_subchannel_pool': 1 })
    try {
      const before = leanCallsServed()
      const res = await unary<{ instances: Array<{ service: string }> }>(gzip.registry, 'Discover', { service: 'zipped' })
      expect(res.instances[0].service).toBe('zipped')
      expect(leanCallsServed()).toBe(before)
    } finally {
      gzip.close()
    }
  })

  it('leaves a wrong content type to grpc-js (415)', async () => {
    const res = await rawCall(addr, frame(request('web')), { 'content-type': 'text/plain' })
    expect(res.status).toBe(415)
  })

  it('sends the bytes grpc-js sends: one framed message, then status 0', async () => {
    const res = await rawCall(addr, frame(request('web')))
    expect(res).toMatchObject({ status: 200, grpcStatus: '0', grpcMessage: 'OK' })
    expect(res.data[0]).toBe(0)
    expect(res.data.readUInt32BE(1)).toBe(res.data.length - 5)
    expect(discover.responseDeserialize(res.data.subarray(5))).toMatchObject({ instances: [{ service: 'web' }] })
  })

  it.each<[string, Buffer, string, RegExp]>([
    ['no message', Buffer.alloc(0), '12', /no request message/],
    ['a cut frame header', Buffer.from([0, 0, 0]), '12', /no request message/],
    ['two messages', Buffer.concat([frame(request('a')), frame(request('b'))]), '12', /second request message/],
    ['a truncated message', frame(request('web'), 0, 100), '13', /truncated/],
    ['a compressed flag without grpc-encoding', frame(request('web'), 1), '13', /compressed/],
    ['bytes that are not a DiscoverRequest', frame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])), '13', /deserializing/],
    ['a message over the limit', frame(Buffer.alloc(MAX + 1, 0x0a)), '8', /larger than max \(65537 vs 65536\)/],
    ['a header declaring a message over the limit', frame(Buffer.alloc(10), 0, 1 << 30), '8', /larger than max \(1073741824 vs 65536\)/],
    ['a small message followed by more than the limit', Buffer.concat([frame(request('web')), Buffer.alloc(MAX + 10)]), '8', /larger than max/]
  ])('fails a call with %s, names it, and keeps serving', async (_name, body, code, details) => {
    const res = await rawCall(addr, body)
    expect(res.grpcStatus).toBe(code)
    expect(res.grpcMessage).toMatch(details)
    const ok = await unary<{ instances: Array<{ service: string }> }>(clients.registry, 'Discover', { service: 'after' })
    expect(ok.instances[0].service).toBe('after')
  })

  it('reads a request sent a byte a DATA frame (copied into one buffer, not kept as its frames)', async () => {
    const res = await rawCall(addr, frame(request('x'.repeat(300))), {}, 'trickle')
    expect(res).toMatchObject({ grpcStatus: '0' })
    expect(discover.responseDeserialize(res.data.subarray(5))).toMatchObject({ instances: [{ service: 'x'.repeat(300) }] })
  })

  it('reads a message larger than its first buffer, in many DATA frames (the buffer grows with what came)', async () => {
    const big = 'y'.repeat(60_000)
    const res = await rawCall(addr, frame(request(big)))
    expect(res).toMatchObject({ grpcStatus: '0' })
    expect(discover.responseDeserialize(res.data.subarray(5))).toMatchObject({ instances: [{ service: big }] })
  })

  it('resets a call left to grpc-js whose body comes a byte a DATA frame (grpc-js keeps every frame)', async () => {
    const register = service.Register
    const body = frame(register.requestSerialize({ instance: { service: 'web', instance_id: 'i1', address: '10.0.0.1', port: 80, metadata: { pad: 'x'.repeat(3000) } } }))
    const res = await rawCall(addr, body, { ':path': register.path }, 'trickle')
    expect(res.rstCode).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM)
    // the same body in one piece is answered
    expect(await rawCall(addr, body, { ':path': register.path })).toMatchObject({ grpcStatus: '0' })
  })

  it.each([
    ['an invalid grpc-timeout', { 'grpc-timeout': 'abc' }, 'whole', '13', /Invalid grpc-timeout value "abc"/],
    ['a request that never ends, past its grpc-timeout', { 'grpc-timeout': '50m' }, 'open', '4', /Deadline exceeded/]
  ] as const)('keeps the client\'s deadline as grpc-js does: %s', async (_name, headers, send, code, details) => {
    const res = await rawCall(addr, frame(request('web')).subarray(0, 8), headers, send)
    expect(res.grpcStatus).toBe(code)
    expect(res.grpcMessage).toMatch(details)
  })

  it('ends a Watch at its grpc-timeout, after the events sent', async () => {
    const res = await rawCall(addr, frame(service.Watch.requestSerialize({ service: 'three' })), { ':path': service.Watch.path, 'grpc-timeout': '100m' })
    expect(res).toMatchObject({ grpcStatus: '4', grpcMessage: 'Deadline exceeded' })
    expect(res.data.length).toBeGreaterThan(15)
  })

  it('survives a client that gives up before the answer', async () => {
    const err = await unary(clients.registry, 'Discover', { service: 'slow' }, { deadlineMs: 20 }).catch((e: grpc.ServiceError) => e)
    expect(err).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED })
    await new Promise(resolve => setTimeout(resolve, 150))
    const ok = await unary<{ instances: Array<{ service: string }> }>(clients.registry, 'Discover', { service: 'after' })
    expect(ok.instances[0].service).toBe('after')
  })

  /** A grpc-js client's Watch: the instance ids it got, and how it ended. */
  async function watchIds (svc: string, leaveAfter?: number): Promise<{ ids: string[], error?: grpc.ServiceError }> {
    return await new Promise(resolve => {
      const ids: string[] = []
      const call = (clients.registry as any).Watch({ service: svc }) as grpc.ClientReadableStream<{ instance: { instance_id: string } }>
      call.on('data', ev => {
        ids.push(ev.instance.instance_id)
        if (ids.length === leaveAfter) call.cancel()
      })
      call.on('error', (error: grpc.ServiceError) => { resolve({ ids, error }) })
      call.on('end', () => { resolve({ ids }) })
    })
  }

  it('streams Watch events to a grpc-js client until it leaves, and sees it leave', async () => {
    const before = leanCallsServed()
    const res = await watchIds('three', 3)
    expect(res.ids).toEqual(['a', 'b', 'c'])
    expect(res.error?.code).toBe(grpc.status.CANCELLED)
    expect(leanCallsServed()).toBe(before + 1)
    await waitFor(() => closedWatches.has('three'), { message: 'the server saw the client leave' })
  })

  it('ends a Watch with its status, after the events sent, or before any', async () => {
    const late = await watchIds('fail-late')
    expect(late.ids).toEqual(['one'])
    expect(late.error).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'too far behind: resume' })
    const early = await watchIds('fail-early')
    expect(early.ids).toEqual([])
    expect(early.error).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'too far behind: resume' })
  })

  it('stops writing when the client does not read, and goes on once it drained', async () => {
    const session = http2.connect(`http://${addr}`)
    try {
      const req = session.request({ ':method': 'POST', ':path': service.Watch.path, 'content-type': 'application/grpc', te: 'trailers' })
      req.end(frame(service.Watch.requestSerialize({ service: 'flood' })))
      req.pause()
      const got: Buffer[] = []
      const trailers = new Promise<http2.IncomingHttpHeaders>(resolve => { req.on('trailers', resolve) })
      // nothing read: the window and the buffers fill, and the server waits for a drain:
      // past one writable buffer (16 KB: 4 events), so through drains, up to the window (64 KB: 16)
      await waitFor(() => flood.written > 4, { timeoutMs: 10_000, message: 'the server wrote through a drain' })
      // then it stops: what it wrote holds still while nothing is read
      let before = -1
      await waitFor(() => { const still = flood.written === before; before = flood.written; return still }, { timeoutMs: 10_000, intervalMs: 100, message: 'the server waits for a drain' })
      expect(flood.written).toBeLessThan(FLOOD_EVENTS)
      req.on('data', (c: Buffer) => { got.push(c) })
      req.resume()
      const t = await trailers
      expect(t['grpc-status']).toBe('0')
      const body = Buffer.concat(got)
      const ids: string[] = []
      for (let at = 0; at < body.length; at = at + 5 + body.readUInt32BE(at + 1)) {
        ids.push((service.Watch.responseDeserialize(body.subarray(at + 5, at + 5 + body.readUInt32BE(at + 1))) as any).instance.instance_id)
      }
      expect(ids).toEqual(Array.from({ length: FLOOD_EVENTS }, (_, k) => `f${k}`))
    } finally {
      session.close()
    }
  })

  it('refuses a server it cannot hook into', () => {
    expect(() => { serveLean({} as grpc.Server, { unary: [], serverStream: [] }, MAX) }).toThrow(/this grpc-js has no onStreamOpened/)
    expect(() => { serveLean({ onStreamOpened: () => {} } as unknown as grpc.Server, { unary: [], serverStream: [] }, MAX) }).toThrow(/no per-stream handler _streamHandler/)
  })
})
