#!/usr/bin/env -S node --max-semi-space-size=4 --v8-pool-size=1
import '../polyfill.js'
import { runNodeCommand } from './node-command.js'
import { runClusterCommand } from '../../cluster/cluster-command.js'
import { runClientCommand, CLIENT_COMMANDS } from '../../client/commands.js'

const USAGE = `usage: grapevine <command> [flags]
  node        run a registry node (grapevine node --help)
  cluster up  start a local cluster of N node processes
  ${CLIENT_COMMANDS.join(', ')}   talk to a node (--addr host:port)`

async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'node') return await runNodeCommand(rest)
  if (command === 'cluster') return await runClusterCommand(rest)
  if (command !== undefined && CLIENT_COMMANDS.includes(command)) return await runClientCommand(command, rest)
  process.stderr.write(USAGE + '\n')
  return command === undefined || command === '--help' ? 0 : 2
}

main(process.argv.slice(2)).then(code => {
  // `node` and `cluster up` keep running until a signal; they set exitCode themselves
  if (code >= 0) process.exitCode = code
}, (err: unknown) => {
  process.stderr.write(`grapevine: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 2
})
