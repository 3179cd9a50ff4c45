import type * as grpc from '@grpc/grpc-js'
import { openWatch } from '../../client/client.js'
import type { WireWatchEvent } from '../../client/client.js'
import { monoMs } from './bench-util.js'

/** A watch that notes when each instance's first UPSERT arrived (monoMs(): one clock for every thread of the process). */
export class WatchRecorderLite {
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
