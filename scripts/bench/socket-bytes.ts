import { execFile, spawn, type ChildProcess } from 'node:child_process'

/** TCP counters of one socket, from `ss -tin` (the kernel's tcp_info). */
export interface SocketCounters {
  /** owning process; undefined for a socket `ss -E` reported destroyed */
  readonly pid: number | undefined
  readonly local: string
  readonly peer: string
  readonly localPort: number
  readonly peerPort: number
  /** payload bytes, retransmissions included */
  readonly bytesSent: number
  readonly bytesReceived: number
  readonly segsOut: number
  readonly segsIn: number
}

/** True when iproute2's `ss` runs here. */
export async function hasSs (): Promise<boolean> {
  return await new Promise(resolve => { execFile('ss', ['-V'], err => { resolve(err == null) }) })
}

/** Parses `ss -tin[p]H` output: a socket line starting with its state, its tcp_info on indented lines. */
export function parseSs (out: string): SocketCounters[] {
  const records: string[] = []
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue
    if (/^\s/.test(line) && records.length > 0) records[records.length - 1] += ' ' + line.trim()
    else records.push(line.trim())
  }
  return records.map(r => {
    const pid = /pid=(\d+)/.exec(r)
    // State Recv-Q Send-Q Local Peer [users:(...)] info...
    const cols = r.split(/\s+/)
    const num = (name: string): number => {
      const m = new RegExp(`\\b${name}:(\\d+)`).exec(r)
      return m == null ? 0 : Number(m[1])
    }
    return {
      pid: pid == null ? undefined : Number(pid[1]),
      local: cols[3] ?? '',
      peer: cols[4] ?? '',
      localPort: portOf(cols[3] ?? ''),
      peerPort: portOf(cols[4] ?? ''),
      bytesSent: num('bytes_sent'),
      bytesReceived: num('bytes_received'),
      segsOut: num('segs_out'),
      segsIn: num('segs_in')
    }
  })
}

/** Every TCP socket of the given processes with its counters. */
export async function readSockets (pids: ReadonlySet<number>): Promise<SocketCounters[]> {
  const out = await new Promise<string>((resolve, reject) => {
    execFile('ss', ['-tinpH'], { maxBuffer: 64 * 1024 * 1024, timeout: 10_000 }, (err, stdout) => { err != null ? reject(err) : resolve(stdout) })
  })
  return parseSs(out).filter(s => s.pid != null && pids.has(s.pid))
}

function portOf (endpoint: string): number {
  const i = endpoint.lastIndexOf(':')
  return i < 0 ? 0 : Number(endpoint.slice(i + 1))
}

/** Traffic of one process over a measured window. */
export interface Traffic {
  bytesSent: number
  bytesReceived: number
  segsOut: number
  segsIn: number
  sockets: number
  /** sockets opened in the window (connections made, from this side) */
  opened: number
  /** of the bytes above, those shared out from sockets of an unknown dialler (see SocketMeter) */
  estimatedBytes: number
}

/** What the meter needs to know about each measured process. */
export interface MeteredProcess {
  readonly pid: number
  /** ports it listens on: a socket on one of them is its accepted side, whoever saw it */
  readonly listenPorts: readonly number[]
}

/**
 * Sums, per process, what went through its TCP sockets between start() and
 * stop(). Two sources: `ss -tinpH` every `everyMs` (counters and owning pid
 * of live sockets) and `ss -E -tinH` (the final counters of every socket
 * destroyed meanwhile, so a connection that opens and closes between two
 * samples still counts). A socket first seen after start counts from zero.
 * A destroyed socket no sample saw is attributed by its port when it is a
 * listening port of a metered process; else (the dialling side of a very
 * short connection to a metered listener, whose dialler is unknown) its
 * counters are shared out evenly among the other metered processes and
 * reported as estimated. `include` filters sockets (e.g. everything but gRPC
 * ports).
 */
export class SocketMeter {
  private readonly first = new Map<string, SocketCounters>()
  private readonly last = new Map<string, SocketCounters>()
  private readonly ownerOf = new Map<string, number>()
  private readonly destroyed = new Map<string, SocketCounters>()
  private readonly pids: Set<number>
  private readonly listener = new Map<number, number>()
  private events: ChildProcess | undefined
  private eventsOut = ''
  private timer: NodeJS.Timeout | undefined
  private sampling: Promise<void> = Promise.resolve()
  samples = 0
  /** bytes (sent + received) of destroyed sockets no process could be found for */
  unattributedBytes = 0
  unattributedSockets = 0

  constructor (procs: readonly MeteredProcess[], private readonly include: (s: SocketCounters) => boolean, private readonly everyMs = 250) {
    this.pids = new Set(procs.map(p => p.pid))
    for (const p of procs) for (const port of p.listenPorts) this.listener.set(port, p.pid)
  }

  /** Starts the destroyed-socket stream, takes the first sample and starts sampling. */
  async start (): Promise<void> {
    // stdbuf: ss block-buffers a pipe; line buffering lets its output through as it comes
    this.events = await hasStdbuf()
      ? spawn('stdbuf', ['-oL', 'ss', '-E', '-tinH'], { stdio: ['ignore', 'pipe', 'ignore'] })
      : spawn('ss', ['-E', '-tinH'], { stdio: ['ignore', 'pipe', 'ignore'] })
    this.events.stdout?.on('data', (chunk: Buffer) => { this.eventsOut += chunk.toString('utf8') })
    this.events.on('error', () => {})
    await this.sample(true)
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.sampling = this.sample(false).catch(() => {}).finally(() => { if (this.timer != null) tick() })
      }, this.everyMs)
    }
    tick()
  }

  /** Takes the last sample, ends the stream; the traffic of each pid in the window. */
  async stop (): Promise<Map<number, Traffic>> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.sampling
    await this.sample(false)
    const ev = this.events
    if (ev != null && ev.exitCode === null) {
      const exited = new Promise<void>(resolve => { ev.once('close', () => { resolve() }) })
      ev.kill('SIGINT')
      const t = setTimeout(() => { ev.kill('SIGKILL') }, 2000)
      await exited
      clearTimeout(t)
    }
    for (const s of parseSs(this.eventsOut)) {
      if (s.local === '' || s.peer.endsWith(':*')) continue
      this.destroyed.set(`${s.local} ${s.peer}`, s)
    }
    const out = new Map<number, Traffic>()
    for (const pid of this.pids) out.set(pid, { bytesSent: 0, bytesReceived: 0, segsOut: 0, segsIn: 0, sockets: 0, opened: 0, estimatedBytes: 0 })
    const keys = new Set([...this.last.keys(), ...this.destroyed.keys()])
    for (const key of keys) {
      const gone = this.destroyed.get(key)
      const end = gone ?? this.last.get(key)
      if (end == null || !this.include(end)) continue
      const pid = this.ownerOf.get(key) ?? this.listener.get(end.localPort)
      const base = this.first.get(key)
      const d = {
        sent: end.bytesSent - (base?.bytesSent ?? 0),
        received: end.bytesReceived - (base?.bytesReceived ?? 0),
        segsOut: end.segsOut - (base?.segsOut ?? 0),
        segsIn: end.segsIn - (base?.segsIn ?? 0)
      }
      const t = pid == null ? undefined : out.get(pid)
      if (t == null) {
        // the dialling side of a connection too short for any sample: one of the other processes dialled
        const callee = this.listener.get(end.peerPort)
        if (callee == null) continue
        this.unattributedBytes += d.sent + d.received
        this.unattributedSockets++
        const others = [...out].filter(([p]) => p !== callee).map(([, x]) => x)
        for (const x of others) {
          x.bytesSent += d.sent / others.length
          x.bytesReceived += d.received / others.length
          x.segsOut += d.segsOut / others.length
          x.segsIn += d.segsIn / others.length
          x.opened += 1 / others.length
          x.estimatedBytes += (d.sent + d.received) / others.length
        }
        continue
      }
      t.bytesSent += d.sent
      t.bytesReceived += d.received
      t.segsOut += d.segsOut
      t.segsIn += d.segsIn
      t.sockets++
      if (base == null) t.opened++
    }
    return out
  }

  /** Per socket, what went through it in the window; after stop(). Destroyed sockets included. */
  perSocket (): Array<{ key: string, pid: number | undefined, socket: SocketCounters, sent: number, received: number, segs: number, closed: boolean }> {
    const keys = new Set([...this.last.keys(), ...this.destroyed.keys()])
    const rows = []
    for (const key of keys) {
      const end = this.destroyed.get(key) ?? this.last.get(key)
      if (end == null || !this.include(end)) continue
      const pid = this.ownerOf.get(key) ?? this.listener.get(end.localPort)
      if (pid == null && !this.listener.has(end.peerPort)) continue
      const base = this.first.get(key)
      rows.push({
        key,
        pid,
        socket: end,
        sent: end.bytesSent - (base?.bytesSent ?? 0),
        received: end.bytesReceived - (base?.bytesReceived ?? 0),
        segs: end.segsOut + end.segsIn - (base?.segsOut ?? 0) - (base?.segsIn ?? 0),
        closed: this.destroyed.has(key)
      })
    }
    return rows
  }

  private async sample (initial: boolean): Promise<void> {
    const sockets = await readSockets(this.pids)
    this.samples++
    for (const s of sockets) {
      const key = `${s.local} ${s.peer}`
      if (initial) this.first.set(key, s)
      if (s.pid != null) this.ownerOf.set(key, s.pid)
      this.last.set(key, s)
    }
  }
}

async function hasStdbuf (): Promise<boolean> {
  return await new Promise(resolve => { execFile('stdbuf', ['--version'], err => { resolve(err == null) }) })
}
