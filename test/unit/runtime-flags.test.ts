import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { NODE_RUNTIME_FLAGS, nodeRuntimeArgs } from '../../node/runtime-flags.js'

const read = (rel: string): string => readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8')

// The node's V8 flags are written in three places besides the launcher; a flag
// missing in one of them would make that way of running a node use more memory.
describe('node runtime flags', () => {
  it('are what the launcher passes, before GRAPEVINE_NODE_FLAGS', () => {
    expect(nodeRuntimeArgs({})).toEqual([...NODE_RUNTIME_FLAGS])
    expect(nodeRuntimeArgs({ GRAPEVINE_NODE_FLAGS: ' --cpu-prof  --cpu-prof-dir=/tmp/p ' })).toEqual([...NODE_RUNTIME_FLAGS, '--cpu-prof', '--cpu-prof-dir=/tmp/p'])
  })

  it("are in the CLI's shebang, for `grapevine node` run from npm's bin", () => {
    const shebang = read('../../node/cli/main.ts').split('\n')[0]
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_RUNTIME_FLAGS.join(' ')}`)
  })

  it("are in the Dockerfile's entrypoint, before the script", () => {
    const line = read('../../Dockerfile').split('\n').find(l => l.startsWith('ENTRYPOINT'))
    const entry = JSON.parse(line?.slice('ENTRYPOINT'.length).trim() ?? '[]') as string[]
    expect(entry).toEqual(['node', ...NODE_RUNTIME_FLAGS, 'dist/node/cli/main.js', 'node'])
  })
})
