import { describe, expect, it } from 'vitest'
import { runNodeCommand } from '../../node/cli/node-command.js'
import { InvalidArgumentError } from '../../node/errors.js'

// `grapevine node` refuses a bad flag naming it, before anything starts.
describe('grapevine node flags', () => {
  it.each<[string, string[], string]>([
    ['an unknown log level (pino\'s own message named no flag)', ['--log-level', 'bogus'], '--log-level'],
    ['an unknown profile', ['--profile', 'nope'], '--profile'],
    ['a bad seed', ['--join', '127.0.0.1:1', '--join', 'nohost'], '--join']
  ])('%s', async (_what, argv, field) => {
    const err = await runNodeCommand(['--data-dir', '/nonexistent/grapevine-test', ...argv]).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).field).toBe(field)
  })
})
