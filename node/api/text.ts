/** At most `max` UTF-16 units of `s`, never half of a surrogate pair. */
export function clip (s: string, max: number): string {
  if (s.length <= max) return s
  const last = s.charCodeAt(max - 1)
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max)
}

/**
 * `s` with every lone surrogate replaced by U+FFFD: encodeURI (a status's
 * grpc-message) throws on one, and a client's input can hold one.
 */
export function wellFormed (s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
}

const SURROGATE = /[\ud800-\udfff]/

/** True when `s` holds no lone surrogate (the test for any surrogate first is the cheap common case). */
export function isWellFormed (s: string): boolean {
  return !SURROGATE.test(s) || wellFormed(s) === s
}
