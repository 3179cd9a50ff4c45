/**
 * Lifeguard's local health awareness: a score that rises when this node
 * misses acks and nacks (it may be the slow one: overloaded, paused) and
 * falls when probes succeed. Probe interval and timeout are stretched by
 * (score + 1), so a slow node stops accusing healthy ones.
 */
export class Awareness {
  private score = 0

  constructor (private readonly max: number) {}

  /** Adds `delta` (+1 missed, -1 healthy), kept within [0, max - 1]. */
  apply (delta: number): void {
    this.score = Math.min(this.max - 1, Math.max(0, this.score + delta))
  }

  /** The current score; 0 is healthy. */
  get health (): number {
    return this.score
  }

  /** `ms` stretched by the score. */
  scale (ms: number): number {
    return ms * (this.score + 1)
  }
}
