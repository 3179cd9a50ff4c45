import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it, expect, vi } from 'vitest'
import { FaultSwitch } from '../../node/membership/fault-switch.js'

let dir: string
let file: string
let stamp = 1_700_000_000

/** Writes the fault file with a fresh mtime, whatever the file system's timestamp granularity. */
function write (text: string): void {
  writeFileSync(file, text)
  stamp += 10
  utimesSync(file, stamp, stamp)
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'grapevine-faults-'))
  file = join(dir, 'faults')
  vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) })
})

afterEach(() => {
  vi.useRealTimers()
  rmSync(dir, { recursive: true, force: true })
})

/** Past the switch's 50 ms re-read throttle. */
const later = (): void => { vi.advanceTimersByTime(51) }

describe('FaultSwitch', () => {
  it('blocks nothing while the file is absent', () => {
    const f = new FaultSwitch(file)
    expect(f.blocks('peer-a')).toBe(false)
    expect(f.blocks('')).toBe(false)
    later()
    expect(f.blocks('peer-a')).toBe(false)
  })

  it('blocks the ids listed in the file, one a line, trimmed', () => {
    write('peer-a\n  peer-b  \r\n\n\npeer-c')
    const f = new FaultSwitch(file)
    expect(f.blocks('peer-a')).toBe(true)
    expect(f.blocks('peer-b')).toBe(true)
    expect(f.blocks('peer-c')).toBe(true)
    expect(f.blocks('peer-d')).toBe(false)
    expect(f.blocks('')).toBe(false)
    expect(f.blocks('peer')).toBe(false)
  })

  it('blocks nothing for an empty file', () => {
    write('\n\n')
    const f = new FaultSwitch(file)
    expect(f.blocks('')).toBe(false)
    expect(f.blocks('peer-a')).toBe(false)
  })

  it('follows rewrites of the file', () => {
    write('peer-a\n')
    const f = new FaultSwitch(file)
    expect(f.blocks('peer-a')).toBe(true)
    write('peer-b\npeer-c\n')
    later()
    expect(f.blocks('peer-a')).toBe(false)
    expect(f.blocks('peer-b')).toBe(true)
    expect(f.blocks('peer-c')).toBe(true)
    write('')
    later()
    expect(f.blocks('peer-b')).toBe(false)
  })

  it('picks up a file created after it started, and unblocks when it is deleted', () => {
    const f = new FaultSwitch(file)
    expect(f.blocks('peer-a')).toBe(false)
    write('peer-a\n')
    later()
    expect(f.blocks('peer-a')).toBe(true)
    unlinkSync(file)
    later()
    expect(f.blocks('peer-a')).toBe(false)
  })

  it('re-reads at most every 50 ms', () => {
    write('peer-a\n')
    const f = new FaultSwitch(file)
    expect(f.blocks('peer-a')).toBe(true)
    write('peer-b\n')
    vi.advanceTimersByTime(49)
    expect(f.blocks('peer-a')).toBe(true)
    expect(f.blocks('peer-b')).toBe(false)
    vi.advanceTimersByTime(1)
    expect(f.blocks('peer-a')).toBe(false)
    expect(f.blocks('peer-b')).toBe(true)
  })

  it('works on real time too (no fake timers)', async () => {
    vi.useRealTimers()
    write('peer-a\n')
    const f = new FaultSwitch(file)
    expect(f.blocks('peer-a')).toBe(true)
    write('peer-b\n')
    await vi.waitFor(() => { expect(f.blocks('peer-b')).toBe(true) }, { timeout: 2000, interval: 10 })
    expect(f.blocks('peer-a')).toBe(false)
  })
})

describe('FaultSwitch loss and delay', () => {
  it.each([
    ['loss 1', 0.99, true],
    ['loss 0', 0, false],
    ['loss 0.3', 0.29, true],
    ['loss 0.3', 0.31, false],
    ['loss banana', 0, false],
    ['loss 7', 0.99, true]
  ])('%s with a draw of %s blocks: %s', (text, draw, blocked) => {
    write(`${text}\n`)
    const f = new FaultSwitch(file, () => draw)
    expect(f.blocks('anyone')).toBe(blocked)
  })

  it.each([
    ['delay 25', 25],
    ['delay -5', 0],
    ['delay x', 0],
    ['', 0]
  ])('"%s" delays incoming messages by %s ms', (text, ms) => {
    write(text)
    expect(new FaultSwitch(file).delayMs()).toBe(ms)
  })

  it('combines a partition with loss and delay lines', () => {
    write('peer-a\nloss 0.5\ndelay 10\n')
    const f = new FaultSwitch(file, () => 0.9)
    expect(f.blocks('peer-a')).toBe(true)
    expect(f.blocks('peer-b')).toBe(false)
    expect(f.delayMs()).toBe(10)
  })
})
