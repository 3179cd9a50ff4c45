import type { CheckSpec } from './check-spec.js'

/**
 * A CheckSpec in the proto's shape (snake_case, the `kind` oneof as a
 * field): for answers, and for checking specs that arrive from peers or
 * disk with the same `parseCheck` that checks the API's.
 */
export function checkToProto (spec: CheckSpec): Record<string, unknown> {
  const kind = spec.kind === 'http'
    ? { http: { url: spec.http?.url ?? '', path: spec.http?.path ?? '', method: spec.http?.method ?? 'GET', expected_status: spec.http?.expectedStatus ?? 0, headers: spec.http?.headers ?? {} } }
    : spec.kind === 'grpc' ? { grpc: { service: spec.grpc?.service ?? '' } } : { [spec.kind]: {} }
  return {
    ...kind,
    kind: spec.kind,
    interval_ms: spec.intervalMs,
    timeout_ms: spec.timeoutMs,
    failure_threshold: spec.failureThreshold,
    success_threshold: spec.successThreshold,
    initial_status: spec.initialStatus,
    deregister_critical_after_ms: spec.deregisterCriticalAfterMs
  }
}
