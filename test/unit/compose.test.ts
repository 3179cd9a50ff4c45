import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { parseFlags, parseHostPort } from '../../node/cli/args.js'
import { NODE_FLAGS } from '../../node/cli/node-flags.js'

// docker-compose.yml passes flags to `grapevine node` as plain strings; nothing
// but this test notices when a flag is renamed or a port drifts.

const COMPOSE_FILE = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url))
const KNOWN = new Set(NODE_FLAGS.map(f => f.name))

type Doc = Record<string, any>

function loadCompose (): Doc {
  // merge: true resolves the `<<: *node` keys as docker compose does
  return parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true })
}

/** The command of a service as a list of strings (compose also allows one string). */
function commandOf (service: Doc): string[] {
  const command = service.command
  if (typeof command === 'string') return command.trim().split(/\s+/)
  if (Array.isArray(command) && command.every(c => typeof c === 'string')) return command
  return []
}

/** `--flag value` and `--flag=value` pairs of a command, with problems found while reading them. */
function flagsOf (name: string, command: string[]): { flags: Map<string, string>, problems: string[] } {
  const flags = new Map<string, string>()
  const problems: string[] = []
  for (let i = 0; i < command.length; i++) {
    const token = command[i]
    if (!token.startsWith('--')) {
      problems.push(`${name}: "${token}" is not a flag`)
      continue
    }
    const eq = token.indexOf('=')
    const flag = token.slice(2, eq === -1 ? undefined : eq)
    let value: string | undefined = eq === -1 ? command[i + 1] : token.slice(eq + 1)
    if (eq === -1 && value !== undefined && !value.startsWith('--')) i++
    else if (eq === -1) value = undefined
    if (!KNOWN.has(flag)) problems.push(`${name}: unknown flag --${flag}`)
    if (value === undefined || value === '') problems.push(`${name}: --${flag} has no value`)
    if (flags.has(flag)) problems.push(`${name}: --${flag} given twice`)
    flags.set(flag, value ?? '')
  }
  return { flags, problems }
}

/** Container-side port of a `ports:` entry (short "host:container[/proto]" or long syntax). */
function targetPort (entry: unknown): number | undefined {
  if (typeof entry === 'number') return entry
  if (typeof entry === 'string') return Number(entry.split('/')[0].split(':').at(-1))
  if (entry !== null && typeof entry === 'object' && 'target' in entry) return Number(entry.target)
  return undefined
}

/** Container-side path of a `volumes:` entry. */
function volumeTarget (entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry.split(':')[1]
  if (entry !== null && typeof entry === 'object' && 'target' in entry) return String(entry.target)
  return undefined
}

function portOf (value: string | undefined, field: string): number | undefined {
  try {
    return value === undefined ? undefined : parseHostPort(value, field).port
  } catch {
    return undefined
  }
}

/** Every inconsistency between a compose document and NODE_FLAGS; empty when there is none. */
function composeProblems (doc: Doc): string[] {
  const services: Record<string, Doc> = doc?.services ?? {}
  const names = Object.keys(services)
  if (names.length === 0) return ['no services']
  const problems: string[] = []
  const parsed = new Map(names.map(name => [name, flagsOf(name, commandOf(services[name]))]))
  for (const [name, { flags, problems: flagProblems }] of parsed) {
    const service = services[name]
    problems.push(...flagProblems)
    if (commandOf(service).length === 0) problems.push(`${name}: command is missing or not a list of strings`)
    for (const spec of NODE_FLAGS) {
      if (spec.default === undefined && !flags.has(spec.name)) problems.push(`${name}: required --${spec.name} is missing`)
    }
    // the node's own parser must accept the command too
    try {
      parseFlags(commandOf(service), NODE_FLAGS)
    } catch (err) {
      problems.push(`${name}: parseFlags rejects the command: ${(err as Error).message}`)
    }
    if (flags.has('name') && flags.get('name') !== name) problems.push(`${name}: --name is "${flags.get('name')}", not the service name`)
    const grpcPort = portOf(flags.get('grpc'), '--grpc')
    if (grpcPort === undefined) problems.push(`${name}: --grpc is not host:port`)
    if (portOf(flags.get('gossip'), '--gossip') === undefined) problems.push(`${name}: --gossip is not host:port`)

    const targets = (flags.get('join') ?? '').split(',').filter(t => t !== '')
    const joined = new Set<string>()
    for (const target of targets) {
      let host: string, port: number
      try {
        ({ host, port } = parseHostPort(target, '--join'))
      } catch {
        problems.push(`${name}: --join target "${target}" is not host:port`)
        continue
      }
      joined.add(host)
      if (host === name) problems.push(`${name}: --join names itself`)
      if (!names.includes(host)) {
        problems.push(`${name}: --join target "${host}" is not a compose service`)
        continue
      }
      const gossipPort = portOf(parsed.get(host)?.flags.get('gossip'), '--gossip')
      if (port !== gossipPort) problems.push(`${name}: --join ${target} but ${host} gossips on port ${gossipPort}`)
    }
    for (const other of names) {
      if (other !== name && !joined.has(other)) problems.push(`${name}: --join does not name ${other}`)
    }

    const ports: unknown[] = Array.isArray(service.ports) ? service.ports : []
    if (ports.length === 0) problems.push(`${name}: gRPC port is not published`)
    for (const entry of ports) {
      if (targetPort(entry) !== grpcPort) problems.push(`${name}: publishes ${JSON.stringify(entry)} but --grpc listens on ${grpcPort}`)
    }
    const dataDir = flags.get('data-dir')
    const volumes: unknown[] = Array.isArray(service.volumes) ? service.volumes : []
    if (dataDir !== undefined && !volumes.some(v => volumeTarget(v) === dataDir)) problems.push(`${name}: --data-dir ${dataDir} is not a volume`)
  }
  const published = names.flatMap(n => (Array.isArray(services[n].ports) ? services[n].ports : []).map(String).map((p: string) => p.split(':').slice(0, -1).join(':')))
  if (new Set(published).size !== published.length) problems.push(`host ports published twice: ${published.join(', ')}`)
  return problems
}

describe('docker-compose.yml', () => {
  it('runs three nodes n1..n3', () => {
    expect(Object.keys(loadCompose().services)).toEqual(['n1', 'n2', 'n3'])
  })

  it('passes only known node flags, consistently', () => {
    expect(composeProblems(loadCompose())).toEqual([])
  })

  // the check above is only worth something if it fails on the mistakes it exists for
  const cmd = (doc: Doc, service: string): string[] => doc.services[service].command
  const setFlag = (doc: Doc, service: string, flag: string, value: string): void => {
    const c = cmd(doc, service)
    c[c.indexOf(`--${flag}`) + 1] = value
  }
  it.each<[string, (doc: Doc) => void, string]>([
    ['a typo in a flag', d => { cmd(d, 'n1')[cmd(d, 'n1').indexOf('--gossip')] = '--gosip' }, 'n1: unknown flag --gosip'],
    ['a flag without value', d => { cmd(d, 'n2').splice(cmd(d, 'n2').indexOf('--cluster') + 1, 1) }, 'n2: --cluster has no value'],
    ['a missing required flag', d => { cmd(d, 'n3').splice(cmd(d, 'n3').indexOf('--data-dir'), 2) }, 'n3: required --data-dir is missing'],
    ['a join to an unknown service', d => { setFlag(d, 'n1', 'join', 'n2:7001,n4:7001') }, 'n1: --join target "n4" is not a compose service'],
    ['a join on the wrong port', d => { setFlag(d, 'n2', 'join', 'n1:7000,n3:7001') }, 'n2: --join n1:7000 but n1 gossips on port 7001'],
    ['a gossip port the others do not join', d => { setFlag(d, 'n3', 'gossip', '0.0.0.0:7002') }, 'n1: --join n3:7001 but n3 gossips on port 7002'],
    ['a join to itself', d => { setFlag(d, 'n1', 'join', 'n1:7001,n2:7001,n3:7001') }, 'n1: --join names itself'],
    ['a published port that is not gRPC', d => { d.services.n2.ports = ['7101:7001'] }, 'n2: publishes "7101:7001" but --grpc listens on 7000'],
    ['a gRPC port that moved', d => { setFlag(d, 'n3', 'grpc', '0.0.0.0:7005') }, 'n3: publishes "7102:7000" but --grpc listens on 7005'],
    ['a name that is not the service', d => { setFlag(d, 'n2', 'name', 'node2') }, 'n2: --name is "node2", not the service name'],
    ['a data dir without volume', d => { setFlag(d, 'n1', 'data-dir', '/var/lib/grapevine') }, 'n1: --data-dir /var/lib/grapevine is not a volume']
  ])('flags %s', (_what, mutate, problem) => {
    const doc = loadCompose()
    mutate(doc)
    expect(composeProblems(doc)).toContain(problem)
  })
})
