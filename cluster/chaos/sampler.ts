import { setTimeout as sleep } from 'node:timers/promises'
import type { Caller } from './calls.js'

/**
 * Discover on every node, in rounds: each round asks every node for every
 * service (include_unhealthy, so statuses show) at once and waits for all
 * answers (deadlines bound it). Rounds are numbered across the run; a round
 * in which every node answered a service is a complete view of it, which
 * is how the checker knows an instance was gone everywhere.
 */
export class Sampler {
  private round = 0
  private loop: Promise<void> | undefined
  private readonly abort = new AbortController()

  constructor (private readonly caller: Caller, private readonly nodes: number, private readonly services: readonly string[], private readonly intervalMs = 500, private readonly deadlineMs = 1000) {}

  /** Starts sampling rounds. */
  start (): void {
    this.loop ??= this.run()
  }

  /** Stops after the round in flight. */
  async stop (): Promise<void> {
    this.abort.abort()
    await this.loop
  }

  /** One round now, marked final (the checker's end-of-run samples); true when every node answered every service. */
  async finalRound (): Promise<boolean> {
    return await this.oneRound(true)
  }

  private async run (): Promise<void> {
    while (!this.abort.signal.aborted) {
      const started = Date.now()
      await this.oneRound(false)
      const rest = this.intervalMs - (Date.now() - started)
      if (rest > 0) await sleep(rest, undefined, { signal: this.abort.signal }).catch(() => {})
    }
  }

  private async oneRound (final: boolean): Promise<boolean> {
    const round = ++this.round
    const calls: Array<Promise<boolean>> = []
    for (let n = 1; n <= this.nodes; n++) {
      for (const service of this.services) {
        calls.push(this.caller.discover(n, service, { round, ...(final ? { final } : {}) }, this.deadlineMs).then(r => r.ok))
      }
    }
    return (await Promise.all(calls)).every(ok => ok)
  }
}
