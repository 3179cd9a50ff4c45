/**
 * Whether a dial error means "connection refused": the host answered and
 * nothing listens on the port. libp2p wraps the socket error (in `cause`,
 * or in an AggregateError's `errors`), so look through the chain.
 */
export function isRefused (err: unknown, depth = 0): boolean {
  if (err == null || typeof err !== 'object' || depth > 6) return false
  const e = err as { code?: unknown, message?: unknown, cause?: unknown, errors?: unknown }
  if (e.code === 'ECONNREFUSED') return true
  if (typeof e.message === 'string' && e.message.includes('ECONNREFUSED')) return true
  if (isRefused(e.cause, depth + 1)) return true
  return Array.isArray(e.errors) && e.errors.some(x => isRefused(x, depth + 1))
}
