import { setTimeout as delay } from 'node:timers/promises'

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long; default 10000. */
  timeoutMs?: number
  /** Pause between attempts; default 100. */
  intervalMs?: number
  /** What was awaited, for the timeout error; a function is called at timeout so it can describe the last state seen. */
  message?: string | (() => string)
  /** Aborting stops the wait at once and rejects with the signal's reason. */
  signal?: AbortSignal
}

/** waitFor gave up; `cause` is the last error the condition threw, if any. */
export class WaitTimeoutError extends Error {
  static readonly NAME = 'WaitTimeoutError'
  override readonly name = WaitTimeoutError.NAME
}

/**
 * Polls `condition` until it returns a truthy value and resolves with it.
 * A throwing condition counts as "not yet" (a node still starting refuses
 * calls); the last error is reported as `cause` on timeout. An attempt that
 * hangs past the deadline does not hold the caller: the wait fails on time.
 */
export async function waitFor<T> (condition: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 100, signal } = options
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    signal?.throwIfAborted()
    try {
      const value = await withinDeadline(Promise.resolve().then(condition), deadline)
      if (value) return value as NonNullable<T>
      lastError = undefined
    } catch (err) {
      if (err === TIMED_OUT) break
      lastError = err
    }
    const pause = Math.min(intervalMs, deadline - Date.now())
    if (pause <= 0) break
    try {
      await delay(pause, undefined, { signal })
    } catch {
      signal?.throwIfAborted()
    }
  }
  signal?.throwIfAborted()
  const what = typeof options.message === 'function' ? options.message() : (options.message ?? 'condition')
  const last = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
  throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${last}`, { cause: lastError })
}

const TIMED_OUT = Symbol('timed out')

async function withinDeadline<T> (attempt: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((resolve, reject) => {
    timer = setTimeout(() => { reject(TIMED_OUT) }, Math.max(0, deadline - Date.now()))
  })
  // the losing attempt may still reject later; swallow it so it is not "unhandled"
  attempt.catch(() => {})
  try {
    return await Promise.race([attempt, timeout])
  } finally {
    clearTimeout(timer)
  }
}
