import { status } from '@grpc/grpc-js'
import type { ServiceError } from '@grpc/grpc-js'
import { InvalidArgumentError, NoInstanceError, NotFoundError, NotReadyError, StorageError, WatcherOverflowError } from '../errors.js'

/** The one table from domain errors to gRPC status codes (etcd's v3rpc/util.go). */
const TABLE: ReadonlyArray<[new (...args: any[]) => Error, status]> = [
  [InvalidArgumentError, status.INVALID_ARGUMENT],
  [NotFoundError, status.NOT_FOUND],
  [WatcherOverflowError, status.RESOURCE_EXHAUSTED],
  [NotReadyError, status.UNAVAILABLE],
  [NoInstanceError, status.UNAVAILABLE],
  [StorageError, status.UNAVAILABLE]
]

/** The `{ code, details }` a handler replies with for an error. */
export function toServiceError (err: unknown): Partial<ServiceError> {
  for (const [cls, code] of TABLE) {
    if (err instanceof cls) return { code, details: err.message }
  }
  return { code: status.INTERNAL, details: 'internal error' }
}
