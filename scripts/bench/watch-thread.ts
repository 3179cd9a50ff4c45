import '../../node/polyfill.js'
import { parentPort, workerData } from 'node:worker_threads'
import { waitFor } from '../../cluster/wait.js'
import { recordWatch } from './watch-timer.js'
import type { WatchClient, WatchRecorder } from './watch-timer.js'

// The watches of bench:propagation, on their own thread: a program that
// watches is not the one that registers, and with both on one event loop
// the Register answers and the four streams' events queued behind each
// other (the figure was about 10% higher). Arrival times are monoMs(),
// the clock the registering thread reads too.

/** What the registering thread asks. */
export type WatchThreadRequest =
  | { readonly type: 'collect', readonly prefix: string, readonly count: number }
  | { readonly type: 'close', readonly index: number }

/** What this thread answers: ready once every watch is SYNCED, then one `arrivals` per `collect`. */
export type WatchThreadReply =
  | { readonly type: 'ready' }
  | { readonly type: 'arrivals', readonly perWatch: Array<Array<[string, number]>> }
  | { readonly type: 'error', readonly message: string }

const { addrs, service, client } = workerData as { addrs: string[], service: string, client: WatchClient }
const port = parentPort
if (port == null) throw new Error('watch-thread.js runs as a worker thread')
const watches = addrs.map(a => recordWatch(client, a, service))
const open = new Set(watches)
const post = (r: WatchThreadReply): void => { port.postMessage(r) }

port.on('message', (req: WatchThreadRequest) => {
  if (req.type === 'close') {
    watches[req.index].close()
    open.delete(watches[req.index])
    return
  }
  // each open watch's arrivals of this prefix, once every one has all `count` of them
  const mine = (w: WatchRecorder): Array<[string, number]> => [...w.arrivals].filter(([id]) => id.startsWith(req.prefix))
  waitFor(() => [...open].every(w => mine(w).length >= req.count), { timeoutMs: 30_000, message: `every ${req.prefix} UPSERT on every watch` })
    .then(() => { post({ type: 'arrivals', perWatch: watches.map(w => open.has(w) ? mine(w) : []) }) })
    .catch((err: Error) => { post({ type: 'error', message: err.message }) })
})

waitFor(() => watches.every(w => w.synced), { message: 'watches SYNCED' })
  .then(() => { post({ type: 'ready' }) })
  .catch((err: Error) => { post({ type: 'error', message: err.message }) })
