/** Distinct strings kept; past it the pool starts over (records keep what they hold). */
const MAX_STRINGS = 50_000
const pool = new Map<string, string>()

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

/** Tags with shared strings. */
export function internTags (tags: readonly string[]): string[] {
  return tags.map(intern)
}

/** Metadata with shared keys and values. */
export function internMetadata (metadata: Readonly<Record<string, string>>): Record<string, string> {
  return metadataOfEntries(Object.entries(metadata))
}

/** Metadata from key/value pairs, shared; fromEntries keeps a '__proto__' key a plain key (an assignment would set the prototype). */
export function metadataOfEntries (entries: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  return Object.fromEntries(entries.map(([k, v]) => [intern(k), intern(v)]))
}
