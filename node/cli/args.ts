import { InvalidArgumentError } from '../errors.js'
import type { FlagSpec } from './node-flags.js'

/**
 * Parses `--flag value` and `--flag=value` against a table of flags.
 * Unknown flags and missing values throw InvalidArgumentError naming the flag;
 * absent flags take their default, and a flag without default is required.
 * A list flag given more than once gathers its values, comma-separated;
 * another one takes its last value.
 */
export function parseFlags (argv: readonly string[], specs: readonly FlagSpec[]): Record<string, string> {
  const known = new Map(specs.map(s => [s.name, s]))
  const out: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new InvalidArgumentError(arg, 'unexpected argument (flags are --name value)')
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    if (!known.has(name)) throw new InvalidArgumentError(`--${name}`, 'unknown flag')
    let value: string | undefined
    if (eq !== -1) {
      value = arg.slice(eq + 1)
    } else {
      value = argv[i + 1]
      if (value === undefined || value.startsWith('--')) throw new InvalidArgumentError(`--${name}`, 'needs a value')
      i++
    }
    // a list given twice is one list (as Consul's -retry-join): `--join a:1 --join b:2` dropped a:1;
    // any other flag given twice takes its last value
    out[name] = known.get(name)?.list === true && Object.hasOwn(out, name) ? [out[name], value].filter(v => v !== '').join(',') : value
  }
  for (const spec of specs) {
    if (out[spec.name] !== undefined) continue
    if (spec.default === undefined) throw new InvalidArgumentError(`--${spec.name}`, 'is required')
    out[spec.name] = spec.default
  }
  return out
}

/** Help text for a table of flags. */
export function flagsHelp (specs: readonly FlagSpec[]): string {
  return specs.map(s => `  --${s.name.padEnd(12)} ${s.help}${s.default !== undefined && s.default !== '' ? ` (default ${s.default})` : ''}`).join('\n')
}

/** Splits "host:port" (IPv6 as "[::1]:port"); throws naming `field`. */
export function parseHostPort (value: string, field: string): { host: string, port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value)
  if (m == null) throw new InvalidArgumentError(field, `expected host:port, got "${value}"`)
  const port = Number(m[3])
  if (port > 65535) throw new InvalidArgumentError(field, `port ${port} is above 65535`)
  return { host: m[1] ?? m[2], port }
}
