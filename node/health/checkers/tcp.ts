/**
 * The TCP check (Consul's): a connect to address:port, closed at once.
 * Accepted passes; refused, unreachable or no answer before the timeout fails.
 */
import { connect } from 'node:net'
import type { CheckSpec } from '../check-spec.js'
import { deadline, describeError, hostPort } from './checker.js'
import type { CheckResult, CheckTarget } from './checker.js'

/** The TCP checker; never throws. */
export async function tcpCheck (target: CheckTarget, spec: CheckSpec, signal: AbortSignal): Promise<CheckResult> {
  const prefix = `TCP connect ${hostPort(target)}`
  const d = deadline(signal, spec.timeoutMs)
  try {
    return await new Promise<CheckResult>((resolve) => {
      let done = false
      const finish = (result: CheckResult): void => {
        if (done) return
        done = true
        d.signal.removeEventListener('abort', onAbort)
        socket.destroy()
        resolve(result)
      }
      const onAbort = (): void => { finish({ ok: false, output: `${prefix}: ${d.reason()}` }) }
      const socket = connect({ host: target.address, port: target.port })
      socket.once('connect', () => { finish({ ok: true, output: `${prefix}: success` }) })
      // `on`, not `once`: a later error with no listener would crash the process.
      socket.on('error', (err) => { finish({ ok: false, output: `${prefix}: ${describeError(err)}` }) })
      if (d.signal.aborted) onAbort()
      else d.signal.addEventListener('abort', onAbort, { once: true })
    })
  } catch (err) {
    // connect() throws synchronously on a bad port or address: still a failed check.
    return { ok: false, output: `${prefix}: ${describeError(err)}` }
  } finally {
    d.dispose()
  }
}
