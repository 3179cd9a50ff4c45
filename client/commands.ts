import { setTimeout as delay } from 'node:timers/promises'
import * as grpc from '@grpc/grpc-js'
import { flagsHelp, parseFlags, parseHostPort } from '../node/cli/args.js'
import type { FlagSpec } from '../node/cli/node-flags.js'
import { InvalidArgumentError } from '../node/errors.js'
import {
  connect, errorDetails, formatToken, isServiceError, openWatch, parseToken, unary,
  type GrapevineClients, type WireInstance, type WireMember, type WireWatchEvent
} from './client.js'

/** The client subcommands of `grapevine`, in help order. */
export const CLIENT_COMMANDS = ['register', 'deregister', 'heartbeat', 'discover', 'pick', 'maintenance', 'watch', 'members', 'status', 'services']

/** Where a command writes, and an extra stop signal (tests); defaults to the process's. */
export interface ClientIo {
  out?: (line: string) => void
  err?: (line: string) => void
  /** Ends `watch` and `register --heartbeat` like Ctrl-C does. */
  signal?: AbortSignal
}

/** A flag of a client command; boolean flags may be given bare (`--json`). */
interface ClientFlag extends FlagSpec {
  readonly boolean?: true
}

interface Ctx {
  flags: Record<string, string>
  clients: GrapevineClients
  json: boolean
  deadlineMs: number
  out: (line: string) => void
  err: (line: string) => void
  signal?: AbortSignal
}

interface Command {
  readonly summary: string
  readonly flags: readonly ClientFlag[]
  readonly run: (ctx: Ctx) => Promise<number>
}

const COMMON: readonly ClientFlag[] = [
  { name: 'addr', help: 'gRPC address of the node to ask, host:port', default: '127.0.0.1:7100' },
  { name: 'json', help: 'print JSON lines instead of text', default: 'false', boolean: true },
  { name: 'deadline-ms', help: 'deadline of each call', default: '5000' }
]
const SERVICE: ClientFlag = { name: 'service', help: 'service name' }
const ID: ClientFlag = { name: 'id', help: 'instance id' }
const TAGS: ClientFlag = { name: 'tags', help: 'required tags, a,b', default: '', list: true }
const META: ClientFlag = { name: 'meta', help: 'required metadata, k=v,k2=v2', default: '', list: true }
const STATUSES = ['PASSING', 'WARNING', 'CRITICAL', 'MAINTENANCE']

const COMMANDS: Record<string, Command> = {
  register: {
    summary: 'register (upsert) an instance; --heartbeat keeps it alive until Ctrl-C',
    flags: [
      SERVICE,
      { name: 'id', help: 'instance id (generated when empty)', default: '' },
      { name: 'address', help: 'IP or hostname the instance serves on' },
      { name: 'port', help: 'port the instance serves on, 1-65535' },
      { ...TAGS, help: 'tags, a,b' },
      { name: 'meta', help: 'metadata, k=v,k2=v2', default: '', list: true },
      { name: 'zone', help: 'locality, e.g. eu-west-1a', default: '' },
      { name: 'weight', help: '0-10000; 0 means the node default (100)', default: '0' },
      { name: 'protocol', help: 'free text, e.g. grpc, http', default: '' },
      { name: 'version', help: 'free text, e.g. a semver', default: '' },
      { name: 'status', help: `initial status: ${STATUSES.join(', ')}`, default: 'PASSING' },
      { name: 'ttl', help: 'seconds without heartbeat before the record expires, 1-86400', default: '30' },
      { name: 'heartbeat', help: 'heartbeat every ttl/3 until Ctrl-C, re-registering when lost', default: 'false', boolean: true }
    ],
    run: runRegister
  },
  deregister: {
    summary: 'remove an instance',
    flags: [SERVICE, ID],
    run: async ctx => {
      const res = await unary(ctx.clients.registry, 'Deregister', { service: ctx.flags.service, instance_id: ctx.flags.id }, ctx)
      if (ctx.json) ctx.out(toJsonLine(res))
      else ctx.out(`${ctx.flags.service}/${ctx.flags.id} ${res.existed === true ? 'deregistered' : 'was not registered'}`)
      return 0
    }
  },
  heartbeat: {
    summary: 'renew the TTL of an instance once',
    flags: [SERVICE, ID],
    run: async ctx => {
      const res = await unary(ctx.clients.registry, 'Heartbeat', { service: ctx.flags.service, instance_id: ctx.flags.id }, ctx)
      ctx.out(ctx.json ? toJsonLine(res) : `${ctx.flags.service}/${ctx.flags.id} ttl remaining ${res.ttl_remaining_ms as number} ms`)
      return 0
    }
  },
  discover: {
    summary: 'list the instances of a service, healthy first',
    flags: [
      SERVICE, TAGS, META,
      { name: 'zone', help: 'only this zone', default: '' },
      { name: 'all', help: 'include CRITICAL and MAINTENANCE instances', default: 'false', boolean: true },
      { name: 'limit', help: 'at most this many (0: all)', default: '0' }
    ],
    run: async ctx => {
      const f = ctx.flags
      const res = await unary(ctx.clients.registry, 'Discover', {
        service: f.service,
        tags: parseList(f.tags),
        metadata: parseMeta(f.meta),
        zone: f.zone,
        include_unhealthy: f.all === 'true',
        limit: parseIntFlag(f, 'limit', 0, 2 ** 32 - 1)
      }, ctx)
      if (ctx.json) {
        ctx.out(toJsonLine(res))
      } else {
        for (const instance of res.instances as WireInstance[]) ctx.out(formatInstance(instance))
        ctx.out(`resume_token ${formatToken(res.resume_token)}`)
      }
      return 0
    }
  },
  pick: {
    summary: 'ask the node to pick one healthy instance, as a client-side balancer would',
    flags: [
      SERVICE, TAGS, META,
      { name: 'strategy', help: 'round_robin, weighted_round_robin, random, weighted_random, least_request, ring_hash, maglev or locality', default: 'round_robin' },
      { name: 'hash-key', help: 'the key ring_hash and maglev hash (same key, same instance)', default: '' },
      { name: 'client-zone', help: 'the caller\'s zone, for locality', default: '' }
    ],
    run: async ctx => {
      const f = ctx.flags
      const res = await unary(ctx.clients.registry, 'Pick', {
        service: f.service, tags: parseList(f.tags), metadata: parseMeta(f.meta), strategy: f.strategy, hash_key: f['hash-key'], client_zone: f['client-zone']
      }, ctx)
      ctx.out(ctx.json ? toJsonLine(res) : `${formatInstance(res.instance as WireInstance)}${res.panic === true ? ' (panic: picked from all instances)' : ''}`)
      return 0
    }
  },
  maintenance: {
    summary: 'drain an instance (MAINTENANCE: out of healthy answers) or, with --off, bring it back',
    flags: [
      SERVICE, ID,
      { name: 'off', help: 'end maintenance: back to the status its check gives', default: 'false', boolean: true },
      { name: 'reason', help: 'free text, kept in metadata maintenance_reason', default: '' }
    ],
    run: async ctx => {
      const f = ctx.flags
      const res = await unary(ctx.clients.registry, 'SetMaintenance', { service: f.service, instance_id: f.id, enabled: f.off !== 'true', reason: f.reason }, ctx)
      ctx.out(ctx.json ? toJsonLine(res) : formatInstance(res.instance as WireInstance))
      return 0
    }
  },
  watch: {
    summary: 'print instance changes as they happen, until Ctrl-C',
    flags: [
      { name: 'service', help: 'service name (empty: every service)', default: '' },
      TAGS,
      { name: 'resume', help: 'base64 token from an event or discover: resume after it', default: '' }
    ],
    run: runWatch
  },
  members: {
    summary: 'list the cluster members this node knows',
    flags: [],
    run: async ctx => {
      const res = await unary(ctx.clients.cluster, 'Members', {}, ctx)
      const members = [...res.members as WireMember[]].sort((a, b) => a.name.localeCompare(b.name) || a.node_id.localeCompare(b.node_id))
      if (ctx.json) ctx.out(toJsonLine({ members }))
      else printTable(ctx, ['NAME', 'STATE', 'INCARNATION', 'GRPC', 'GOSSIP', 'NODE_ID'], members.map(m => [m.name, m.state, String(m.incarnation), m.grpc_address, m.gossip_address, m.node_id]))
      return 0
    }
  },
  status: {
    summary: 'print this node\'s status as JSON',
    flags: [],
    run: async ctx => {
      const res = await unary(ctx.clients.cluster, 'Status', {}, ctx)
      // status is JSON either way; --json only makes it one line
      ctx.out(JSON.stringify(jsonable(res), null, ctx.json ? undefined : 2))
      return 0
    }
  },
  services: {
    summary: 'list services with instance counts',
    flags: [],
    run: async ctx => {
      const res = await unary(ctx.clients.registry, 'ListServices', {}, ctx)
      if (ctx.json) ctx.out(toJsonLine(res))
      else printTable(ctx, ['NAME', 'INSTANCES', 'PASSING'], (res.services as Array<{ name: string, instances: number, passing: number }>).map(s => [s.name, String(s.instances), String(s.passing)]))
      return 0
    }
  }
}

/**
 * Runs one client command with its flags and returns the exit code:
 * 0 done, 1 the call failed, 2 bad usage. Errors print as `grapevine: <details>`.
 */
export async function runClientCommand (command: string, argv: string[], io: ClientIo = {}): Promise<number> {
  const out = io.out ?? ((line: string) => { process.stdout.write(line + '\n') })
  const err = io.err ?? ((line: string) => { process.stderr.write(line + '\n') })
  const spec = COMMANDS[command]
  if (spec === undefined) {
    err(`grapevine: unknown command "${command}" (one of ${CLIENT_COMMANDS.join(', ')})`)
    return 2
  }
  const specs = [...spec.flags, ...COMMON]
  if (argv.includes('--help') || argv.includes('-h')) {
    out(`usage: grapevine ${command} [flags]\n  ${spec.summary}\n${flagsHelp(specs)}`)
    return 0
  }
  let ctx: Ctx
  try {
    const flags = parseFlags(expandBooleans(argv, specs), specs)
    parseHostPort(flags.addr, '--addr')
    ctx = { flags, clients: connect(flags.addr), json: flags.json === 'true', deadlineMs: parseIntFlag(flags, 'deadline-ms', 1, 2 ** 31 - 1), out, err, signal: io.signal }
  } catch (e) {
    err(`grapevine: ${errorDetails(e)}`)
    return 2
  }
  try {
    return await spec.run(ctx)
  } catch (e) {
    err(`grapevine: ${errorDetails(e)}`)
    return e instanceof InvalidArgumentError ? 2 : 1
  } finally {
    ctx.clients.close()
  }
}

async function runRegister (ctx: Ctx): Promise<number> {
  const f = ctx.flags
  const ttlSeconds = parseIntFlag(f, 'ttl', 1, 86_400)
  const status = f.status.toUpperCase()
  if (!STATUSES.includes(status)) throw new InvalidArgumentError('--status', `expected one of ${STATUSES.join(', ')}`)
  const instance = {
    service: f.service,
    instance_id: f.id,
    address: f.address,
    port: parseIntFlag(f, 'port', 1, 65_535),
    protocol: f.protocol,
    version: f.version,
    tags: parseList(f.tags),
    metadata: parseMeta(f.meta),
    weight: parseIntFlag(f, 'weight', 0, 10_000),
    zone: f.zone,
    status
  }
  const register = async (): Promise<WireInstance> => {
    const res = await unary(ctx.clients.registry, 'Register', { instance, ttl_seconds: ttlSeconds }, ctx)
    // later beats and re-registrations must name the id the node generated
    instance.instance_id = res.instance.instance_id
    return res.instance
  }
  const stored = await register()
  ctx.out(ctx.json ? toJsonLine({ event: 'registered', instance: stored }) : `registered ${formatInstance(stored)} ttl ${ttlSeconds}s`)
  if (f.heartbeat !== 'true') return 0

  const stop = stopSignal(ctx.signal)
  try {
    await heartbeatLoop(ctx, instance, ttlSeconds * 1000 / 3, register, stop.signal)
  } finally {
    stop.dispose()
  }
  // no deregister on Ctrl-C: the record lapses after its TTL, as if the process had died
  ctx.err(`grapevine: stopped heartbeating ${instance.service}/${instance.instance_id}`)
  return 0
}

async function heartbeatLoop (ctx: Ctx, key: { service: string, instance_id: string }, intervalMs: number, register: () => Promise<WireInstance>, stop: AbortSignal): Promise<void> {
  let next = Date.now() + intervalMs
  while (await sleepUntil(next, stop)) {
    try {
      const res = await unary(ctx.clients.registry, 'Heartbeat', { service: key.service, instance_id: key.instance_id }, ctx)
      ctx.out(ctx.json ? toJsonLine({ event: 'heartbeat', ...key, ...res }) : `heartbeat ${key.service}/${key.instance_id} ttl remaining ${res.ttl_remaining_ms as number} ms`)
    } catch (e) {
      // the owner lost the record (expired, or node restarted without it): put it back
      if (isServiceError(e) && e.code === grpc.status.NOT_FOUND) {
        try {
          const stored = await register()
          ctx.out(ctx.json ? toJsonLine({ event: 'registered', instance: stored }) : `re-registered ${formatInstance(stored)}`)
        } catch (e2) {
          ctx.err(`grapevine: ${errorDetails(e2)}`)
        }
      } else {
        // transient (node restarting, deadline): keep beating, the next one may land
        ctx.err(`grapevine: ${errorDetails(e)}`)
      }
    }
    // anchored to the schedule so beats do not drift; a stall skips missed slots instead of bursting
    next += intervalMs
    if (next <= Date.now()) next = Date.now() + intervalMs
  }
}

async function runWatch (ctx: Ctx): Promise<number> {
  const f = ctx.flags
  let token: Uint8Array = parseToken(f.resume)
  const stop = stopSignal(ctx.signal)
  try {
    while (!stop.signal.aborted) {
      const call = openWatch(ctx.clients.registry, { service: f.service, tags: parseList(f.tags), resume_token: token })
      const cancel = (): void => { call.cancel() }
      stop.signal.addEventListener('abort', cancel, { once: true })
      try {
        for await (const event of call as AsyncIterable<WireWatchEvent>) {
          ctx.out(ctx.json ? toJsonLine(event) : formatEvent(event))
          if (event.resume_token.length > 0) token = event.resume_token
        }
        ctx.err('grapevine: the node ended the watch')
        return 1
      } catch (e) {
        if (stop.signal.aborted) return 0
        // a watcher that fell behind is cut off by design; resuming from its last token loses nothing
        if (isServiceError(e) && e.code === grpc.status.RESOURCE_EXHAUSTED && token.length > 0) {
          ctx.err(`grapevine: ${errorDetails(e)}; resuming`)
          continue
        }
        ctx.err(`grapevine: ${errorDetails(e)}`)
        return 1
      } finally {
        stop.signal.removeEventListener('abort', cancel)
      }
    }
    return 0
  } finally {
    stop.dispose()
  }
}

/** Aborts on SIGINT/SIGTERM or when `extra` aborts; dispose() removes the handlers. */
function stopSignal (extra?: AbortSignal): { signal: AbortSignal, dispose: () => void } {
  const ac = new AbortController()
  const abort = (): void => { ac.abort() }
  process.on('SIGINT', abort)
  process.on('SIGTERM', abort)
  extra?.addEventListener('abort', abort, { once: true })
  if (extra?.aborted === true) ac.abort()
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', abort)
      process.off('SIGTERM', abort)
      extra?.removeEventListener('abort', abort)
    }
  }
}

/** Resolves true at `atMs`, or false as soon as `signal` aborts. */
async function sleepUntil (atMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false
  try {
    await delay(Math.max(0, atMs - Date.now()), undefined, { signal })
    return true
  } catch {
    return false
  }
}

// parseFlags wants a value after every flag; let boolean flags be given bare
function expandBooleans (argv: readonly string[], specs: readonly ClientFlag[]): string[] {
  const booleans = new Set(specs.filter(s => s.boolean === true).map(s => s.name))
  const expanded = argv.map(arg => arg.startsWith('--') && booleans.has(arg.slice(2)) ? `${arg}=true` : arg)
  for (const arg of expanded) {
    const eq = arg.indexOf('=')
    if (eq !== -1 && booleans.has(arg.slice(2, eq)) && !['true', 'false'].includes(arg.slice(eq + 1))) {
      throw new InvalidArgumentError(arg.slice(0, eq), 'expected true or false')
    }
  }
  return expanded
}

function parseIntFlag (flags: Record<string, string>, name: string, min: number, max: number): number {
  const value = flags[name]
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`--${name}`, `expected an integer ${min}-${max}, got "${value}"`)
  return n
}

function parseList (value: string): string[] {
  return value.split(',').map(s => s.trim()).filter(s => s !== '')
}

function parseMeta (value: string): Record<string, string> {
  const meta: Record<string, string> = {}
  for (const pair of parseList(value)) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new InvalidArgumentError('--meta', `expected k=v, got "${pair}"`)
    meta[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return meta
}

function hostPort (address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`
}

function formatInstance (i: WireInstance): string {
  const extras = [
    i.zone !== '' ? `zone=${i.zone}` : '',
    `weight=${i.weight}`,
    i.tags.length > 0 ? `tags=${i.tags.join(',')}` : '',
    Object.keys(i.metadata).length > 0 ? `meta=${Object.entries(i.metadata).map(([k, v]) => `${k}=${v}`).join(',')}` : '',
    i.owner_node !== '' ? `owner=${i.owner_node}` : ''
  ].filter(s => s !== '')
  return [`${i.service}/${i.instance_id}`, hostPort(i.address, i.port), i.status, ...extras].join(' ')
}

// fixed columns (type key address status token) so the output stays awk-able; '-' where unset
function formatEvent (e: WireWatchEvent): string {
  const i = e.instance
  const key = i != null ? `${i.service}/${i.instance_id}` : '-'
  const addr = i != null && e.type === 'UPSERT' ? hostPort(i.address, i.port) : '-'
  const status = i != null && e.type === 'UPSERT' ? i.status : '-'
  return `${e.type} ${key} ${addr} ${status} ${formatToken(e.resume_token) || '-'}`
}

function printTable (ctx: Ctx, header: string[], rows: string[][]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map(r => r[c].length)))
  for (const row of [header, ...rows]) ctx.out(row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd())
}

/** Copies a response with bytes fields as base64, for JSON output. */
function jsonable (value: unknown): unknown {
  if (value instanceof Uint8Array) return formatToken(value)
  if (Array.isArray(value)) return value.map(jsonable)
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonable(v)]))
  return value
}

function toJsonLine (value: unknown): string {
  return JSON.stringify(jsonable(value))
}
