/**
 * Milliseconds on a clock that no wall-clock step moves: the wall clock at
 * process start plus the monotonic time since. TTL deadlines and health
 * timers run on it, so an NTP step (or an operator's `date -s`) neither
 * expires every instance a node owns at once nor keeps them all alive past
 * their TTL; record timestamps, which other nodes compare, stay on
 * Date.now(). Its values read like wall-clock ms, and drift from it only by
 * the steps since start.
 */
export function monotonicNow (): number {
  return performance.timeOrigin + performance.now()
}
