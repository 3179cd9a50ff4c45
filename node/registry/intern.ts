/** Distinct strings kept; past it the pool starts over (records keep what they hold). */
const MAX_STRINGS = 50_000
/** Distinct tag lists and metadata maps kept: fewer, since each costs its key as well */
const MAX_SHAPES = 10_000
const pool = new Map<string, string>()
const tagLists = new Map<string, readonly string[]>()
const metadataMaps = new Map<string, Readonly<Record<string, string>>>()
const NO_TAGS: readonly string[] = Object.freeze([])
const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({})

/**
 * One shared copy of a string that many records repeat: an owner's node id,
 * a service name, a zone, a version, tags, metadata keys and values. Each
 * record parsed from a peer (JSON) or a client (protobuf) came with its own
 * copies: about 10 MB of a node's heap at 100,000 instances. Bounded, so
 * values that never repeat cost a little, never a leak.
 */
export function intern (s: string): string {
  const hit = pool.get(s)
  if (hit !== undefined) return hit
  if (pool.size >= MAX_STRINGS) pool.clear()
  pool.set(s, s)
  return s
}

/**
 * Tags with shared strings, as one frozen list shared by every record with
 * the same tags: a list of its own was 72 B per record.
 */
export function internTags (tags: readonly string[]): readonly string[] {
  if (tags.length === 0) return NO_TAGS
  // records of one service come in runs with the same tags (a snapshot holds 100,000)
  if (lastTags !== undefined && sameStrings(tags, lastTags)) return lastTags
  lastTags = shared(tagLists, keyOf(tags), () => Object.freeze(tags.map(intern)))
  return lastTags
}

/** Metadata with shared keys and values, as one frozen object per distinct content. */
export function internMetadata (metadata: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  return metadataOfEntries(Object.entries(metadata))
}

/**
 * Metadata from key/value pairs, shared and frozen (an object of its own was
 * 56 B per record); fromEntries keeps a '__proto__' key a plain key (an
 * assignment would set the prototype).
 */
export function metadataOfEntries (entries: ReadonlyArray<readonly [string, string]>): Readonly<Record<string, string>> {
  if (entries.length === 0) return NO_METADATA
  if (lastMetadata !== undefined && sameEntries(entries, lastMetadata.flat)) return lastMetadata.value
  const flat = entries.flat()
  const value = shared(metadataMaps, keyOf(flat), () => Object.freeze(Object.fromEntries(entries.map(([k, v]) => [intern(k), intern(v)]))))
  lastMetadata = { flat, value }
  return value
}

// the last list and map handed out: the next record very often has the same
let lastTags: readonly string[] | undefined
let lastMetadata: { flat: readonly string[], value: Readonly<Record<string, string>> } | undefined

function sameStrings (a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function sameEntries (entries: ReadonlyArray<readonly [string, string]>, flat: readonly string[]): boolean {
  if (entries.length * 2 !== flat.length) return false
  for (let i = 0; i < entries.length; i++) if (entries[i][0] !== flat[2 * i] || entries[i][1] !== flat[2 * i + 1]) return false
  return true
}

// Each string ended by a character none of them holds: far cheaper than JSON.stringify
// (a peer's snapshot interns 100,000 records at once). Strings that hold it get JSON,
// which never holds it raw, so the two kinds of key cannot meet.
function keyOf (parts: readonly string[]): string {
  for (const p of parts) if (p.includes(SEP)) return JSON.stringify(parts)
  return parts.join(SEP) + SEP
}

const SEP = '\u0000'

function shared<T> (kept: Map<string, T>, key: string, make: () => T): T {
  const hit = kept.get(key)
  if (hit !== undefined) return hit
  if (kept.size >= MAX_SHAPES) kept.clear()
  const value = make()
  kept.set(key, value)
  return value
}
