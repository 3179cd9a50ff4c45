import { status } from '@grpc/grpc-js'
import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js'

/**
 * grpc.health.v1.Health: the node ('' service) and its two services are
 * SERVING while the node runs, NOT_SERVING once it is stopping.
 */
export class HealthService {
  private serving = true
  private readonly watchers = new Set<ServerWritableStream<any, any>>()
  static readonly SERVICES = new Set(['', 'grapevine.v1.Registry', 'grapevine.v1.Cluster'])

  /** Marks the node as stopping and tells every watcher. */
  shutdown (): void {
    this.serving = false
    for (const w of this.watchers) {
      w.write({ status: 'NOT_SERVING' })
      w.end()
    }
    this.watchers.clear()
  }

  /** The grpc-js handlers. */
  handlers (): UntypedServiceImplementation {
    return {
      Check: (call: any, cb: any) => {
        const name = String(call.request?.service ?? '')
        if (!HealthService.SERVICES.has(name)) {
          cb({ code: status.NOT_FOUND, details: `service "${name}" is not served here` })
          return
        }
        cb(null, { status: this.current() })
      },
      Watch: (call: ServerWritableStream<any, any>) => {
        const name = String(call.request?.service ?? '')
        call.write({ status: HealthService.SERVICES.has(name) ? this.current() : 'SERVICE_UNKNOWN' })
        this.watchers.add(call)
        call.on('cancelled', () => this.watchers.delete(call))
      }
    }
  }

  private current (): string {
    return this.serving ? 'SERVING' : 'NOT_SERVING'
  }
}
