import http2 from 'node:http2'
import type * as grpc from '@grpc/grpc-js'
import { connect, openWatch } from '../../client/client.js'
import type { WireWatchEvent } from '../../client/client.js'
import { serviceClients } from '../../node/api/protos.js'
import { monoMs } from './bench-util.js'
import { grpcHeaders, leanStream, upsertInstanceId, watchEventType } from './lean-grpc.js'

/** A watch that notes when each instance's first UPSERT arrived (monoMs(): one clock for every thread of the process). */
export interface WatchRecorder {
  readonly arrivals: ReadonlyMap<string, number>
  readonly synced: boolean
  close: () => void
}

/** Which client a recorder speaks through: the stock grpc-js one, or lean-grpc.ts. */
export type WatchClient = 'lean' | 'grpc-js'

/** Opens a watch of `service` on the node at `addr` and records its arrivals. */
export function recordWatch (client: WatchClient, addr: string, service: string): WatchRecorder {
  return client === 'lean' ? new LeanWatchRecorder(addr, service) : new GrpcJsWatchRecorder(connect(addr).registry, service)
}

class GrpcJsWatchRecorder implements WatchRecorder {
  readonly arrivals = new Map<string, number>()
  synced = false
  private readonly call: grpc.ClientReadableStream<WireWatchEvent>

  constructor (registry: grpc.Client, service: string) {
    this.call = openWatch(registry, { service })
    this.call.on('data', (ev: WireWatchEvent) => {
      if (ev.type === 'SYNCED') this.synced = true
      const id = ev.instance?.instance_id
      if (ev.type === 'UPSERT' && id != null && !this.arrivals.has(id)) this.arrivals.set(id, monoMs())
    })
    this.call.on('error', () => {})
  }

  close (): void {
    this.call.cancel()
  }
}

/** node:http2, reading only each event's type and instance id off the wire (lean-grpc.ts). */
class LeanWatchRecorder implements WatchRecorder {
  readonly arrivals = new Map<string, number>()
  synced = false
  private readonly session: http2.ClientHttp2Session
  private readonly stream: http2.ClientHttp2Stream

  constructor (addr: string, service: string) {
    const method = (serviceClients().Registry as any).service.Watch
    this.session = http2.connect(`http://${addr}`)
    this.session.on('error', () => {})
    this.stream = leanStream(this.session, grpcHeaders(method.path), method.requestSerialize({ service }) as Buffer, msg => {
      if (watchEventType(msg) === 'SYNCED') this.synced = true
      const id = upsertInstanceId(msg)
      if (id != null && !this.arrivals.has(id)) this.arrivals.set(id, monoMs())
    }, () => {})
  }

  close (): void {
    this.stream.close(http2.constants.NGHTTP2_CANCEL)
    this.session.close()
  }
}
