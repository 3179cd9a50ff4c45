import type * as grpc from '@grpc/grpc-js'
import { openWatch } from '../../client/client.js'
import type { WireWatchEvent } from '../../client/client.js'

/** Records a Watch stream's events and folds them into the watcher's state. */
export class WatchRecorder {
  readonly events: WireWatchEvent[] = []
  readonly state = new Map<string, WireWatchEvent>()
  error: grpc.ServiceError | undefined
  private readonly call: grpc.ClientReadableStream<WireWatchEvent>

  constructor (registry: grpc.Client, request: { service?: string, tags?: string[], resume_token?: Uint8Array } = {}) {
    this.call = openWatch(registry, request)
    this.call.on('data', (ev: WireWatchEvent) => {
      this.events.push(ev)
      const key = `${ev.instance?.service ?? ''}/${ev.instance?.instance_id ?? ''}`
      if (ev.type === 'UPSERT') this.state.set(key, ev)
      if (ev.type === 'DELETE') this.state.delete(key)
      if (ev.type === 'RESET') this.state.clear()
    })
    this.call.on('error', (err: grpc.ServiceError) => { this.error = err })
  }

  /** True once the snapshot (or resume catch-up) is complete. */
  get synced (): boolean {
    return this.events.some(e => e.type === 'SYNCED')
  }

  /** The last resume token seen. */
  get lastToken (): Uint8Array | undefined {
    return this.events.at(-1)?.resume_token
  }

  /** The first event of `type` for `service/instanceId`, if any. */
  find (type: string, service: string, instanceId: string): WireWatchEvent | undefined {
    return this.events.find(e => e.type === type && e.instance?.service === service && e.instance?.instance_id === instanceId)
  }

  close (): void {
    this.call.cancel()
  }
}
