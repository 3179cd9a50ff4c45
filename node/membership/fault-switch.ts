import { readFileSync, statSync } from 'node:fs'

/**
 * Test-only fault injection, enabled by `grapevine node --fault-file F`:
 * the file lists peer ids (one a line) this node must behave as if it
 * cannot reach: membership messages and gossip to and from them are
 * dropped, so a test can partition real processes without root. Re-read
 * when the file changes; an absent file blocks nothing.
 */
export class FaultSwitch {
  private blocked = new Set<string>()
  private mtimeMs = -1
  private checkedAt = 0

  constructor (private readonly file: string) {}

  /** True when traffic with `peerId` is to be dropped. */
  blocks (peerId: string): boolean {
    this.refresh()
    return this.blocked.has(peerId)
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
    this.blocked = new Set(text.split('\n').map(l => l.trim()).filter(l => l !== ''))
  }
}
