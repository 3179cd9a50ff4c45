/**
 * Domain errors: one class per condition, each with a stable `name`.
 * Code matches on the class, never on the message. `node/api/status-map.ts`
 * maps them to gRPC status codes; nothing else in the domain knows gRPC.
 */

/** The data dir is held by another running node. */
export class DataDirInUseError extends Error {
  static readonly NAME = 'DataDirInUseError'
  override readonly name = DataDirInUseError.NAME
}

/** A request field is missing, of the wrong type or out of range. */
export class InvalidArgumentError extends Error {
  static readonly NAME = 'InvalidArgumentError'
  override readonly name = InvalidArgumentError.NAME
  constructor (readonly field: string, reason: string, options?: { cause?: unknown }) {
    super(`${field}: ${reason}`, options)
  }
}

/** The named record does not exist (or is not owned by this node, for Heartbeat). */
export class NotFoundError extends Error {
  static readonly NAME = 'NotFoundError'
  override readonly name = NotFoundError.NAME
}

/** No instance of the service can serve (Pick): every one is unhealthy or drained. */
export class NoInstanceError extends Error {
  static readonly NAME = 'NoInstanceError'
  override readonly name = NoInstanceError.NAME
}

/** A watcher fell too far behind and was dropped; it resumes with its last token. */
export class WatcherOverflowError extends Error {
  static readonly NAME = 'WatcherOverflowError'
  override readonly name = WatcherOverflowError.NAME
}

/** The node is starting or stopping and cannot serve the call. */
export class NotReadyError extends Error {
  static readonly NAME = 'NotReadyError'
  override readonly name = NotReadyError.NAME
}

/** The data dir could not be written: what was asked is not on disk. */
export class StorageError extends Error {
  static readonly NAME = 'StorageError'
  override readonly name = StorageError.NAME
}

/** A configuration field is invalid; `field` names it. */
export class InvalidConfigError extends Error {
  static readonly NAME = 'InvalidConfigError'
  override readonly name = InvalidConfigError.NAME
  constructor (readonly field: string, reason: string) {
    super(`${field}: ${reason}`)
  }
}

/** A peer sent something that does not parse or breaks the protocol. */
export class ProtocolError extends Error {
  static readonly NAME = 'ProtocolError'
  override readonly name = ProtocolError.NAME
}

/**
 * A peer could not be reached. `refused` is the strong signal: the host
 * answered and nothing listens there (the process is gone), where a
 * timeout is ambiguous (slow, paused or partitioned).
 */
export class PeerUnreachableError extends Error {
  static readonly NAME = 'PeerUnreachableError'
  override readonly name = PeerUnreachableError.NAME
  constructor (message: string, readonly refused: boolean, options?: { cause?: unknown }) {
    super(message, options)
  }
}
