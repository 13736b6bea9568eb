/**
 * Start-up failures the operator can fix end the process with one line on stderr naming the
 * setting and the cause: no stack trace, no password, a non-zero exit. Real processes, real
 * files, real ports, a real PostgreSQL (and a port with none behind it).
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { freePort, type SharedPostgres, sharedPostgres } from './support/postgres.ts'
import { type Runtime, runUntilExit as runProcessUntilExit, startServer, tempDir } from './support/server.ts'

const PASSWORD = 's3cret-pw'
/**
 * A process that should have exited but serves instead is killed after this: not a measure of
 * how fast it exits (a start at load 25 takes seconds), only a stop for one that never does, far
 * above any start and well under the test timeout, so such a test fails on its assertions.
 */
const EXIT_WITHIN_MS = 45_000
setDefaultTimeout(60_000)

/** The service's run until it exits, with its stdout lines parsed as JSON where they are JSON. */
async function runUntilExit(runtime: Runtime, env: Record<string, string>) {
  const exit = await runProcessUntilExit(runtime, env, EXIT_WITHIN_MS)
  return { ...exit, stdout: exit.stdout.map(parsed) }
}

function parsed(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return { unparsed: line }
  }
}

/** One line naming `setting`, no stack frames, no password, never listening. */
function expectOneLineFailure(exit: Awaited<ReturnType<typeof runUntilExit>>, setting: string): string {
  expect(exit.stderr).toHaveLength(1)
  const line = exit.stderr[0] as string
  expect(line).toContain(setting)
  expect(line).not.toContain('    at ')
  expect(line).not.toContain(PASSWORD)
  expect(exit.stdout.some((l) => l.msg === 'listening')).toBe(false)
  return line
}

const badSettings: [string, string][] = [
  ['SERVE_PORT', 'eighty'],
  ['SERVE_PORT', '70000'],
  ['DATABASE_URL', `mysql://user:${PASSWORD}@db/configs`],
  ['SEED', 'maybe'],
  ['MAX_BODY_BYTES', '-1'],
  ['LOG_LEVEL', 'loud'],
  ['API_TOKEN', 'has spaces in it'],
  ['API_TOKEN', ''],
  ['API_TOKEN', '   '],
  ['SHUTDOWN_DELAY_MS', '1.5'],
]

// `bundle` is what the image runs: its lines must be the sources' own.
describe.each(['bun', 'bundle'] as const)('on %s', (runtime) => {
  it.each(badSettings)('when %s=%p, then the process exits with 2 and one line naming it', async (variable, value) => {
    const exit = await runUntilExit(runtime, { DATABASE_URL: 'sqlite::memory:', [variable]: value })
    expect(exit.code).toBe(2)
    expectOneLineFailure(exit, variable)
  })
})

describe.each(['bun', 'deno', 'bundle'] as const)('on %s', (runtime) => {
  it('when PostgreSQL cannot be reached, then each retry is logged and the process exits with one line', async () => {
    const port = await freePort() // nothing listens there
    const exit = await runUntilExit(runtime, {
      DATABASE_URL: `postgres://config:${PASSWORD}@127.0.0.1:${port}/configs`,
      DATABASE_CONNECT_RETRIES: '2',
    })
    expect(exit.code).toBe(1)
    const line = expectOneLineFailure(exit, 'DATABASE_URL')
    expect(line).toContain(`127.0.0.1:${port}`)
    expect(line).toContain('ECONNREFUSED')
    expect(line).toContain('DATABASE_CONNECT_RETRIES=2')
    const retries = exit.stdout.filter((l) => l.msg === 'database unavailable at start-up: retrying')
    expect(retries).toHaveLength(2)
    expect(retries.map((l) => [l.level, l.attempt, l.attempts, l.delayMs])).toEqual([
      ['warn', 1, 3, 250],
      ['warn', 2, 3, 500],
    ])
    for (const retry of retries) expect(String(retry.cause)).toContain('ECONNREFUSED')
    expect(JSON.stringify(exit.stdout)).not.toContain(PASSWORD)
  })

  const unopenable: [string, () => string][] = [
    ['a directory', () => tempDir()],
    [
      'under a regular file',
      () => {
        const file = join(tempDir(), 'not-a-directory')
        writeFileSync(file, '')
        return join(file, 'configs.db')
      },
    ],
    [
      'a file that is no database',
      () => {
        const file = join(tempDir(), 'configs.db')
        writeFileSync(
          file,
          'this is not a SQLite database, but it is long enough to have a header of 100 bytes '.repeat(50),
        )
        return file
      },
    ],
    // procfs takes no new files, whoever asks (root included).
    ['in a read-only place', () => '/proc/config-service.db'],
  ]

  it.each(unopenable)('when the SQLite path is %s, then the process exits with one line naming it', async (_, path) => {
    const at = path()
    const exit = await runUntilExit(runtime, { DATABASE_URL: `sqlite:${at}` })
    expect(exit.code).toBe(1)
    expect(expectOneLineFailure(exit, 'DATABASE_URL')).toContain(at)
  })

  describe('when SERVE_PORT is taken by another process', () => {
    let taken: Server
    let port: number

    beforeAll(async () => {
      taken = createServer()
      // The unspecified address, as the service binds it: any overlap is a conflict.
      await new Promise<void>((resolve) => taken.listen(0, resolve))
      port = (taken.address() as { port: number }).port
    })
    afterAll(() => {
      taken.close()
    })

    it('then the process exits with one line naming the port', async () => {
      const exit = await runUntilExit(runtime, { DATABASE_URL: 'sqlite::memory:', SERVE_PORT: String(port) })
      expect(exit.code).toBe(1)
      expect(expectOneLineFailure(exit, 'SERVE_PORT')).toContain(`${port}`)
      expect(exit.stderr[0]).toContain('in use')
    })
  })

  it.each([
    ['API_TOKEN is set', { API_TOKEN: 'a-token' }, true],
    ['API_TOKEN is unset', {}, false],
  ] as const)('when %s, then the listening line says whether writes need a token', async (_, env, needed) => {
    const server = await startServer({ runtime, env: { ...env } })
    try {
      const listening = server.lines.find((l) => (l as { msg?: string }).msg === 'listening')
      expect(listening).toMatchObject({ port: server.port, writesNeedToken: needed })
    } finally {
      await server.stop()
    }
  })
})

describe('when PostgreSQL answers but refuses the database', () => {
  let postgres: SharedPostgres

  beforeAll(async () => {
    postgres = await sharedPostgres()
  }, 60_000)

  it('then the process exits with one line giving its reason, at once', async () => {
    const exit = await runUntilExit('bun', {
      DATABASE_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:${postgres.port}/no_such_database`,
      DATABASE_CONNECT_RETRIES: '5',
    })
    expect(exit.code).toBe(1)
    const line = expectOneLineFailure(exit, 'DATABASE_URL')
    expect(line).toContain('database "no_such_database" does not exist')
    // Not a passing outage: no retries.
    expect(exit.stdout.filter((l) => l.msg === 'database unavailable at start-up: retrying')).toHaveLength(0)
  })
})
