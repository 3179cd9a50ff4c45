/**
 * The limits of a record's fields: what the API accepts from a client
 * (api/validation.ts), and so all a peer may send (gossip/codec.ts). A
 * value past them in a peer's message can only be garbage or a lie: one
 * the API refuses must not reach the view another way.
 */
export const MAX_TEXT_BYTES = 256
export const MAX_TAGS = 64
export const MAX_METADATA_PAIRS = 64
export const MAX_ADDRESS_BYTES = 253
export const MAX_PORT = 65_535
export const MAX_WEIGHT = 10_000
export const SERVICE_PATTERN = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/
/** owners in a version vector (resume tokens, sync requests) */
export const MAX_OWNERS = 10_000
/** gone owners dropped from the vector but remembered as gone (an id and a stamp, about 150 bytes each) */
export const MAX_DROPPED = 50_000
/** characters of an owner's (a node's) id */
export const MAX_OWNER_ID_CHARS = 128
