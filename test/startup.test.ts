/** A bad setting stops the process at start-up with one clear line naming the variable. */
import { expect, it } from 'bun:test'
import { ROOT, runtimeCommand } from './support/server.ts'

const cases: [string, string][] = [
  ['SERVE_PORT', 'eighty'],
  ['SERVE_PORT', '70000'],
  ['DATABASE_URL', 'mysql://user:secret@db/configs'],
  ['SEED', 'maybe'],
  ['MAX_BODY_BYTES', '-1'],
  ['LOG_LEVEL', 'loud'],
  ['API_TOKEN', 'has spaces in it'],
  ['SHUTDOWN_DELAY_MS', '1.5'],
]

it.each(cases)('when %s=%p, then the process exits non-zero with one line naming it', async (variable, value) => {
  const child = Bun.spawn(runtimeCommand('bun'), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'sqlite::memory:', SERVE_PORT: '0', [variable]: value },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const code = await child.exited
  const stderr = (await new Response(child.stderr).text()).trim()
  expect(code).not.toBe(0)
  expect(stderr.split('\n')).toHaveLength(1)
  expect(stderr).toContain(variable)
  // A mistyped URL may carry a password: it must not be echoed.
  expect(stderr).not.toContain('secret')
  expect(await new Response(child.stdout).text()).not.toContain('listening')
})
