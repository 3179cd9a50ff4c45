/**
 * Whether a load an instance reported on Heartbeat is worth an op. Loads
 * change on every heartbeat, and heartbeats are never gossiped: only a change
 * that matters to least_request (at least `minDelta` absolute and 10%
 * relative) travels, and at most once per `minIntervalMs` per instance.
 */
export function loadWorthGossiping (previous: number, next: number, lastSentAtMs: number, nowMs: number, minDelta = 0.05, minIntervalMs = 1000): boolean {
  if (nowMs - lastSentAtMs < minIntervalMs) return false
  const delta = Math.abs(next - previous)
  return delta >= minDelta && delta >= 0.1 * Math.abs(previous)
}
