import { readFileSync, statSync } from 'node:fs'

/**
 * Test-only fault injection, enabled by `grapevine node --fault-file F`.
 * Each line of F is one of:
 *   <peer id>      act partitioned from that peer: drop its membership
 *                  messages and registry gossip, both ways
 *   loss <p>       drop each membership message and gossip batch with probability p (0-1)
 *   delay <ms>     hold each incoming membership message and gossip batch that long
 * so tests and the chaos runner can partition and degrade real processes
 * without root. Re-read when the file changes; an absent file does nothing.
 */
export class FaultSwitch {
  private blocked = new Set<string>()
  private loss = 0
  private delay = 0
  private mtimeMs = -1
  private checkedAt = 0

  constructor (private readonly file: string, private readonly random: () => number = Math.random) {}

  /** True when a message with `peerId` is to be dropped (partitioned, or lost). */
  blocks (peerId: string): boolean {
    this.refresh()
    return this.blocked.has(peerId) || (this.loss > 0 && this.random() < this.loss)
  }

  /** Extra delay for an incoming message, ms. */
  delayMs (): number {
    this.refresh()
    return this.delay
  }

  private refresh (): void {
    const now = Date.now()
    if (now - this.checkedAt < 50) return
    this.checkedAt = now
    let mtime = 0
    try {
      mtime = statSync(this.file).mtimeMs
    } catch {
      mtime = 0
    }
    if (mtime === this.mtimeMs) return
    this.mtimeMs = mtime
    let text = ''
    try {
      text = mtime === 0 ? '' : readFileSync(this.file, 'utf8')
    } catch {
      text = ''
    }
    this.parse(text)
  }

  private parse (text: string): void {
    const blocked = new Set<string>()
    let loss = 0
    let delay = 0
    for (const raw of text.split('\n')) {
      const [word, arg] = raw.trim().split(/\s+/)
      if (word === undefined || word === '') continue
      if (word === 'loss') loss = clamp(Number(arg), 0, 1)
      else if (word === 'delay') delay = clamp(Number(arg), 0, 60_000)
      else blocked.add(word)
    }
    this.blocked = blocked
    this.loss = loss
    this.delay = delay
  }
}

function clamp (v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo
}
