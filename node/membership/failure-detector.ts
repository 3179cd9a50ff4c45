import type { Member } from './member-table.js'

/**
 * Decides which members are DEAD. The membership service owns the table and
 * the wire; a detector only probes and reports verdicts. The simple detector
 * below stands until SWIM with Lifeguard replaces it behind this interface.
 */
export interface FailureDetector {
  start: () => void
  stop: () => void
  /** a connection to the member closed: probe it now rather than next period */
  connectionClosed: (memberId: string) => void
}

/** What a detector needs from its node. */
export interface FailureDetectorComponents {
  /** members to watch (not this node; ALIVE or SUSPECT) */
  readonly members: () => Member[]
  /** one round trip to the member; rejects on timeout or error */
  readonly ping: (member: Member, signal: AbortSignal) => Promise<void>
  /** the verdict: no answer for the failure timeout */
  readonly declareDead: (member: Member) => void
  /** answered again before the verdict */
  readonly markAlive: (member: Member) => void
  readonly now: () => number
}

/** Timing of the simple detector. */
export interface SimpleDetectorInit {
  readonly probeIntervalMs: number
  readonly probeTimeoutMs: number
  readonly failureTimeoutMs: number
}

/**
 * Pings every watched member each period. A member that has not answered
 * for `failureTimeoutMs` is DEAD; a closed connection triggers an immediate
 * ping but never a verdict on its own.
 */
export class SimpleFailureDetector implements FailureDetector {
  private readonly lastAck = new Map<string, number>()
  private readonly probing = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private running = false

  constructor (private readonly components: FailureDetectorComponents, private readonly init: SimpleDetectorInit) {}

  start (): void {
    if (this.running) return
    this.running = true
    this.tick(Date.now())
  }

  stop (): void {
    this.running = false
    clearTimeout(this.timer)
  }

  connectionClosed (memberId: string): void {
    const m = this.components.members().find(x => x.id === memberId)
    if (m != null) void this.probe(m)
  }

  private tick (startedAt: number): void {
    for (const m of this.components.members()) void this.probe(m)
    const period = this.init.probeIntervalMs
    this.timer = setTimeout(() => {
      if (this.running) this.tick(startedAt)
    }, period - ((Date.now() - startedAt) % period))
    this.timer.unref()
  }

  /** One probe of one member; at most one in flight per member. */
  private async probe (m: Member): Promise<void> {
    if (!this.running || this.probing.has(m.id)) return
    this.probing.add(m.id)
    const { now } = this.components
    if (!this.lastAck.has(m.id)) this.lastAck.set(m.id, now())
    let retrySoon = false
    try {
      await this.components.ping(m, AbortSignal.timeout(this.init.probeTimeoutMs))
      this.lastAck.set(m.id, now())
      if (m.state === 'SUSPECT') this.components.markAlive(m)
    } catch {
      if (!this.running) return
      const silentFor = now() - (this.lastAck.get(m.id) ?? now())
      if (silentFor >= this.init.failureTimeoutMs) {
        this.lastAck.delete(m.id)
        this.components.declareDead(m)
      } else {
        // suspicion stays inside this detector: spread by push-pull it would only make members refute
        retrySoon = true
      }
    } finally {
      this.probing.delete(m.id)
    }
    if (!retrySoon) return
    // a refused dial fails at once: look again soon rather than a whole period later
    setTimeout(() => {
      const current = this.components.members().find(x => x.id === m.id)
      if (current != null) void this.probe(current)
    }, Math.min(100, this.init.probeIntervalMs / 2)).unref()
  }
}
