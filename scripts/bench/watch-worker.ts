import http2 from 'node:http2'
import type * as grpc from '@grpc/grpc-js'
import { connect, openWatch } from '../../client/client.js'
import type { GrapevineClients, WireWatchEvent } from '../../client/client.js'
import { monoMs } from './bench-util.js'
import { grpcHeaders, leanStream, watchEventType } from './lean-grpc.js'

/**
 * A forked holder of Watch streams (see watch-fanout.ts): opens `streams`
 * watches of one service on one node and notes, for every instance id, when
 * the LAST of its streams got the first UPSERT of it (monoMs(), comparable
 * with the parent's clock) and how many streams got it.
 *
 * Two clients. `lean` (the default) speaks gRPC over node:http2 itself and
 * does not decode the events: it splits the length-prefixed messages, reads
 * the event type from the first two bytes and finds the instance id by its
 * prefix. A grpc-js client decodes every event into objects; at 1,000
 * streams × 20 changes a second that is 20,000 decodes a second, more CPU
 * than the node spends sending them, and on two cores the benchmark would
 * measure its own backlog. `grpc-js` is kept for comparison.
 */
type Msg =
  | { cmd: 'open', addr: string, path: string, request: string, service: string, streams: number, channels: number, client: 'lean' | 'grpc-js', idPrefix: string, idWidth: number }
  | { cmd: 'status' }
  | { cmd: 'report' }
  | { cmd: 'close' }

const closers: Array<() => void> = []
const arrivals = new Map<string, { last: number, count: number }>()
let synced = 0
let errors = 0
let firstError: string | undefined

function arrived (seen: Set<string>, id: string): void {
  if (seen.has(id)) return
  seen.add(id)
  const at = monoMs()
  const a = arrivals.get(id)
  if (a == null) arrivals.set(id, { last: at, count: 1 })
  else {
    a.count++
    if (at > a.last) a.last = at
  }
}

function failed (what: string): void {
  errors++
  firstError ??= what
}

function openGrpcJs (addr: string, service: string, streams: number, channels: number): void {
  const clients: GrapevineClients[] = []
  // separate channels need local subchannel pools: grpc-js shares one connection per address otherwise
  for (let c = 0; c < channels; c++) clients.push(connect(addr, { 'grpc.use_local_subchannel_pool': 1 }))
  const calls: Array<grpc.ClientReadableStream<WireWatchEvent>> = []
  for (let k = 0; k < streams; k++) {
    const call = openWatch(clients[k % clients.length].registry, { service })
    const seen = new Set<string>()
    call.on('data', (ev: WireWatchEvent) => {
      if (ev.type === 'SYNCED') synced++
      const id = ev.instance?.instance_id
      if (ev.type === 'UPSERT' && id != null) arrived(seen, id)
    })
    // CANCELLED is our own close()
    call.on('error', (err: grpc.ServiceError) => { if (err.code !== 1) failed(`${err.code} ${err.details}`) })
    calls.push(call)
  }
  closers.push(() => {
    for (const c of calls) c.cancel()
    for (const c of clients) c.close()
  })
}

function openLean (addr: string, path: string, request: Buffer, streams: number, channels: number, idPrefix: string, idWidth: number): void {
  const prefix = Buffer.from(idPrefix, 'latin1')
  const sessions = Array.from({ length: channels }, () => {
    const s = http2.connect(`http://${addr}`)
    s.on('error', err => { failed(`session: ${err.message}`) })
    return s
  })
  const headers = grpcHeaders(path)
  const reqs: http2.ClientHttp2Stream[] = []
  for (let k = 0; k < streams; k++) {
    const seen = new Set<string>()
    reqs.push(leanStream(sessions[k % sessions.length], headers, request, msg => {
      const type = watchEventType(msg)
      if (type === 'SYNCED') synced++
      else if (type === 'UPSERT') {
        // fixed-width ids found by their prefix: cheaper than walking the event, at 20,000 events a second
        const at = msg.indexOf(prefix)
        if (at >= 0) arrived(seen, msg.toString('latin1', at, at + prefix.length + idWidth))
      }
    }, (st, err) => {
      if (err != null) failed(`stream: ${err.message}`)
      // no status: our own close() cut it (CANCELLED, 1, is that too when the node answers it)
      else if (st.status != null && st.status !== '0' && st.status !== '1') failed(`grpc-status ${st.status}: ${st.message ?? ''}`)
    }))
  }
  closers.push(() => {
    for (const r of reqs) r.close(http2.constants.NGHTTP2_CANCEL)
    for (const s of sessions) s.close()
  })
}

process.on('message', (msg: Msg) => {
  switch (msg.cmd) {
    case 'open':
      if (msg.client === 'grpc-js') openGrpcJs(msg.addr, msg.service, msg.streams, msg.channels)
      else openLean(msg.addr, msg.path, Buffer.from(msg.request, 'base64'), msg.streams, msg.channels, msg.idPrefix, msg.idWidth)
      process.send?.({ type: 'opened' })
      break
    case 'status':
      process.send?.({ type: 'status', synced, errors, firstError })
      break
    case 'report':
      process.send?.({ type: 'report', arrivals: [...arrivals].map(([id, a]) => [id, a.last, a.count]), synced, errors, firstError })
      break
    case 'close':
      for (const c of closers) c()
      process.exit(0)
  }
})
process.on('disconnect', () => { process.exit(0) })
process.send?.({ type: 'ready' })
