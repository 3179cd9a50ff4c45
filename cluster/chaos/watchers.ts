import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js'
import { status as grpcStatus } from '@grpc/grpc-js'
import { setTimeout as sleep } from 'node:timers/promises'
import { openWatch } from '../../client/client.js'
import type { WireWatchEvent } from '../../client/client.js'
import { seededRandom } from '../../node/membership/clock.js'
import type { Random } from '../../node/membership/clock.js'
import type { LocalCluster } from '../launcher.js'
import { b64, observed } from './calls.js'
import type { Caller } from './calls.js'
import type { History } from './history.js'

/** Options of {@link Watchers}. */
export interface WatchersOptions {
  readonly seed: number
  readonly nodes: number
  readonly services: readonly string[]
  /** how often a watcher checks that its node still answers (Status); two misses in a row count as a broken stream */
  readonly probeEveryMs?: number
  /** chance per probe that a watcher moves to another node on purpose (resume with its token) */
  readonly hopChance?: number
}

/**
 * One watcher per node, each watching every service, reconnecting with its
 * last resume token to another node when its stream breaks: an error or
 * end, or a node that stops answering (SIGSTOP never closes the stream).
 * Now and then a watcher also moves on purpose, so resumes happen on
 * nodes that saw no fault too.
 */
export class Watchers {
  readonly list: Watcher[]

  constructor (cluster: LocalCluster, caller: Caller, history: History, opts: WatchersOptions) {
    this.list = Array.from({ length: opts.nodes }, (_, k) => new Watcher(k + 1, k + 1, { cluster, caller, history, opts, random: seededRandom(opts.seed ^ (0x9e3779b1 * (k + 1))) }))
  }

  /** Opens every watcher's first stream. */
  start (): void {
    for (const w of this.list) w.start()
  }

  /** Stops moving on purpose (the final checks want quiet). */
  settle (): void {
    for (const w of this.list) w.hops = false
  }

  /** Takes every watcher's final consistent cut; resolves with how many succeeded. */
  async finalCuts (timeoutMs: number): Promise<number> {
    const ok = await Promise.all(this.list.map(async w => await w.cut('final', timeoutMs)))
    return ok.filter(Boolean).length
  }

  /** Closes every stream and timer. */
  stop (): void {
    for (const w of this.list) w.stop()
  }
}

interface WatcherContext {
  readonly cluster: LocalCluster
  readonly caller: Caller
  readonly history: History
  readonly opts: WatchersOptions
  readonly random: Random
}

/** One watcher: its current stream, last token, and the cut checks it asks for. */
export class Watcher {
  hops = true
  private stream = 0
  private call: ClientReadableStream<WireWatchEvent> | undefined
  private lastToken: Buffer | undefined
  /** the last event's token as sent (base64, '' when it named no position): cuts compare it */
  private lastEventToken = ''
  private lastEventSeq = -1
  private lastEventAt = 0
  private synced = false
  private stopped = false
  private cutting = false
  private misses = 0
  private timer: NodeJS.Timeout | undefined

  constructor (readonly index: number, public node: number, private readonly ctx: WatcherContext) {}

  /** Opens the first stream and starts the liveness probe. */
  start (): void {
    this.open(this.node)
    this.timer = setInterval(() => { void this.probe() }, this.ctx.opts.probeEveryMs ?? 1000)
  }

  /** Cancels the stream and stops probing. */
  stop (): void {
    this.stopped = true
    clearInterval(this.timer)
    this.stream++
    this.call?.cancel()
    this.call = undefined
  }

  private open (node: number): void {
    if (this.stopped) return
    const id = ++this.stream
    this.node = node
    this.synced = false
    const resume = this.lastToken !== undefined
    this.ctx.history.record({ kind: 'watch-open', watcher: this.index, stream: id, node, resume })
    let call: ClientReadableStream<WireWatchEvent>
    try {
      call = openWatch(this.ctx.cluster.clients(node).registry, resume ? { service: '', resume_token: this.lastToken } : { service: '' })
    } catch (err) {
      this.ended(id, `open failed: ${err instanceof Error ? err.message : String(err)}`)
      return
    }
    this.call = call
    call.on('data', (ev: WireWatchEvent) => { if (id === this.stream) this.onEvent(id, ev, resume) })
    call.on('error', (err: ServiceError) => { this.ended(id, `${grpcStatus[err.code] ?? err.code}: ${err.details}`) })
    call.on('end', () => { this.ended(id, 'stream ended') })
  }

  private onEvent (id: number, ev: WireWatchEvent, resumed: boolean): void {
    if (ev.type !== 'UPSERT' && ev.type !== 'DELETE' && ev.type !== 'SYNCED' && ev.type !== 'RESET') return
    const o = ev.instance != null && ev.type === 'UPSERT' ? observed(ev.instance) : undefined
    const key = ev.instance != null ? `${ev.instance.service}/${ev.instance.instance_id}` : undefined
    const token = b64(ev.resume_token)
    const e = this.ctx.history.record({
      kind: 'watch-event',
      watcher: this.index,
      stream: id,
      node: this.node,
      type: ev.type,
      token,
      ...(key !== undefined ? { key } : {}),
      ...(o !== undefined ? { status: o.status, owner: o.owner, registeredAt: o.registeredAt } : {})
    })
    // an empty token names no position: resume from the last one that did (replaying a little more is harmless)
    if (ev.resume_token.length > 0) this.lastToken = Buffer.from(ev.resume_token)
    this.lastEventToken = token
    this.lastEventSeq = e.seq
    this.lastEventAt = e.t
    if (ev.type === 'SYNCED') {
      this.synced = true
      if (resumed && !this.cutting) void this.cut('resume', 3000)
    }
  }

  private ended (id: number, reason: string): void {
    if (id !== this.stream || this.stopped) return
    this.stream++
    this.call = undefined
    this.ctx.history.record({ kind: 'watch-end', watcher: this.index, stream: id, node: this.node, reason })
    const from = this.node
    setTimeout(() => { this.open(this.otherNode(from)) }, 200).unref()
  }

  /** Leaves the current stream on purpose (`reason`) and resumes on `node`. */
  private move (node: number, reason: string): void {
    const id = this.stream
    this.stream++
    this.call?.cancel()
    this.call = undefined
    this.ctx.history.record({ kind: 'watch-end', watcher: this.index, stream: id, node: this.node, reason })
    this.open(node)
  }

  private otherNode (from: number): number {
    const n = this.ctx.opts.nodes
    if (n === 1) return from
    const k = Math.floor(this.ctx.random.next() * (n - 1))
    return k + 1 >= from ? k + 2 : k + 1
  }

  // SIGSTOP leaves the stream open and silent: a node that misses two probes counts as a broken stream
  private async probe (): Promise<void> {
    if (this.stopped || this.call === undefined) return
    const id = this.stream
    const r = await this.ctx.caller.status(this.node, {}, 1500)
    if (id !== this.stream || this.stopped) return
    this.misses = r.ok ? 0 : this.misses + 1
    if (this.misses >= 2) {
      this.misses = 0
      this.move(this.otherNode(this.node), 'node stopped answering')
      return
    }
    if (this.hops && this.synced && !this.cutting && this.ctx.random.next() < (this.ctx.opts.hopChance ?? 0.03)) {
      this.move(this.otherNode(this.node), 'moving on purpose')
    }
  }

  /**
   * Takes a consistent cut (see CutEntry): Discover every service on the
   * watcher's node; when every answer carries the token of the watcher's
   * last event and no event arrives meanwhile, records the cut. When the
   * node's token moved on without an event for this watcher (a change that
   * left the view as it was), resumes on the same node, whose SYNCED carries
   * the current token. Records `cut-failed` after `timeoutMs`.
   */
  async cut (reason: 'resume' | 'final', timeoutMs: number): Promise<boolean> {
    if (this.cutting && reason === 'resume') return false
    while (this.cutting) await sleep(50)
    this.cutting = true
    const deadline = Date.now() + timeoutMs
    let last = 'no synced stream'
    try {
      while (Date.now() < deadline && !this.stopped) {
        if (!this.synced || this.call === undefined) {
          await sleep(100)
          continue
        }
        const { stream, node, lastEventSeq: eventSeq, lastEventToken: token } = this
        const answers = await Promise.all(this.ctx.opts.services.map(async s => await this.ctx.caller.discover(node, s, {}, 2000)))
        const tokens = new Set(answers.map(a => a.entry.token))
        await sleep(150)
        if (stream !== this.stream || eventSeq !== this.lastEventSeq) {
          last = 'events arrived meanwhile'
          continue
        }
        if (answers.some(a => !a.ok)) {
          last = 'a Discover failed'
          await sleep(200)
          continue
        }
        if (tokens.size === 1 && tokens.has(token) && token !== '') {
          this.ctx.history.record({ kind: 'cut', watcher: this.index, stream, node, eventSeq, answers: answers.map(a => a.entry.seq), reason })
          return true
        }
        last = tokens.size === 1 ? 'node token differs from the last event\'s' : 'the view changed during the Discovers'
        // quiet, yet the node's token is ahead: refresh it with a resume on the same node
        if (tokens.size === 1 && Date.now() - this.lastEventAt > 300) this.move(node, 'refreshing the token for a cut')
        else await sleep(100)
      }
      this.ctx.history.record({ kind: 'cut-failed', watcher: this.index, node: this.node, reason, detail: last })
      return false
    } finally {
      this.cutting = false
    }
  }
}
