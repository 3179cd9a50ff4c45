import type { InvariantResult } from './checker.js'
import type { HistoryEntry } from './history.js'

/** The checker's table: one row per invariant. */
export function formatTable (results: readonly InvariantResult[]): string {
  const w = Math.max(9, ...results.map(r => r.name.length))
  const line = `+${'-'.repeat(w + 2)}+--------+${'-'.repeat(60)}`
  const rows = results.map(r => `| ${r.name.padEnd(w)} | ${(r.pass ? 'PASS' : 'FAIL').padEnd(6)} | ${r.detail}`)
  return [line, `| ${'invariant'.padEnd(w)} | result | detail`, line, ...rows, line].join('\n')
}

/** Every fault action, unexpected exit and phase, one a line, times from the run's start. */
export function formatTimeline (entries: readonly HistoryEntry[], t0: number): string {
  const out: string[] = []
  for (const e of entries) {
    if (e.kind === 'fault') {
      const what = e.action === 'partition'
        ? `partition ${(e.groups ?? []).map(g => g.map(n => `n${n}`).join(',')).join(' | ')}`
        : e.action === 'degrade' ? `degrade n${e.nodes[0]} loss ${e.loss} delay ${e.delayMs} ms` : `${e.action} ${e.nodes.map(n => `n${n}`).join(',')}`
      const done = e.error !== undefined ? ` FAILED: ${e.error}` : e.doneAt !== undefined && e.doneAt - e.t > 5 ? ` (took ${e.doneAt - e.t} ms)` : ''
      out.push(`  ${at(e.t, t0)} ${what}${done}`)
    } else if (e.kind === 'exit' && !e.expected) {
      out.push(`  ${at(e.t, t0)} n${e.node} EXITED by itself (${e.signal ?? `code ${e.code}`})`)
    } else if (e.kind === 'phase') {
      out.push(`  ${at(e.t, t0)} -- ${e.name}${e.detail !== undefined ? `: ${e.detail}` : ''}`)
    }
  }
  return out.join('\n')
}

/** The first `limit` violations of each failed invariant, each with its history entries. */
export function formatViolations (results: readonly InvariantResult[], t0: number, limit = 5): string {
  const out: string[] = []
  for (const r of results) {
    if (r.pass) continue
    out.push(`${r.name}: ${r.violations.length} violation(s); the first ${Math.min(limit, r.violations.length)}:`)
    for (const v of r.violations.slice(0, limit)) {
      out.push(`  * ${v.message}`)
      for (const e of v.entries.slice(0, 8)) out.push(`      #${e.seq} ${formatEntry(e, t0)}`)
    }
  }
  return out.join('\n')
}

/** One history entry on one line. */
export function formatEntry (e: HistoryEntry, t0: number): string {
  const t = at(e.t, t0)
  switch (e.kind) {
    case 'answer': {
      const head = `${t} ${e.op} n${e.node} sent ${at(e.sentAt, t0)}${e.key !== undefined ? ` ${e.key}#${e.life}` : ''}${e.service !== undefined && e.key === undefined ? ` ${e.service}` : ''}${e.round !== undefined ? ` round ${e.round}` : ''}${e.final === true ? ' final' : ''}`
      if (!e.ok) return `${head} -> ${e.code}`
      if (e.instances !== undefined) return `${head} -> ${e.instances.length} [${e.instances.map(i => `${i.key.slice(i.key.indexOf('/') + 1)}:${i.status[0]}@${i.owner.slice(-4)}`).join(' ')}]`
      if (e.digest !== undefined) return `${head} -> digest ${e.digest.slice(0, 12)}`
      return `${head} -> OK${e.registeredAt !== undefined ? ` registered_at ${at(e.registeredAt, t0)}` : ''}`
    }
    case 'watch-event':
      return `${t} watcher ${e.watcher} stream ${e.stream} n${e.node} ${e.type}${e.key !== undefined ? ` ${e.key}` : ''}${e.status !== undefined ? ` ${e.status} owner …${e.owner?.slice(-4)} registered_at ${at(e.registeredAt ?? 0, t0)}` : ''}`
    case 'fault':
      return `${t} fault ${e.action} ${e.nodes.map(n => `n${n}`).join(',')}${e.doneAt !== undefined ? ` done ${at(e.doneAt, t0)}` : ''}`
    case 'client':
      return `${t} client ${e.action} ${e.key}#${e.life}`
    case 'cut':
      return `${t} cut watcher ${e.watcher} n${e.node} (${e.reason}) after event #${e.eventSeq}`
    default: {
      const { seq, t: _t, kind, ...rest } = e
      return `${t} ${kind} ${JSON.stringify(rest)}`
    }
  }
}

function at (t: number, t0: number): string {
  return `+${((t - t0) / 1000).toFixed(3)}s`
}
