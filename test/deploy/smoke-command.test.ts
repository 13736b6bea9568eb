/**
 * `make smoke URL=...`, the post-deploy check, run as a user runs it against a real running
 * instance (a server process started here, with a token, as production has one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { ROOT, type RunningServer, startServer } from '../support/server.ts'

const TOKEN = 'smoke-command-token'
let server: RunningServer

beforeAll(async () => {
  server = await startServer({ env: { API_TOKEN: TOKEN } })
}, 60_000)
afterAll(async () => {
  await server?.stop()
})

async function make(args: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn(['make', '--no-print-directory', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { code, output: `${stdout}${stderr}` }
}

describe('make smoke', () => {
  it('when pointed at a running instance with its token, then the smoke suite passes against it', async () => {
    const result = await make(['smoke', `URL=${server.url}`], { SMOKE_TOKEN: TOKEN })
    expect([result.code, result.output]).toEqual([0, expect.stringContaining(`smoke: ${server.url}`)])
    expect(result.output).toMatch(/\b6 pass\b/)
    expect(result.output).toMatch(/\b0 fail\b/)
    // It cleaned up after itself.
    const names = ((await (await fetch(`${server.url}/configs`)).json()) as { dcname: string }[]).map((c) => c.dcname)
    expect(names.filter((name) => name.startsWith('smoke-'))).toEqual([])
  }, 60_000)

  it('when the instance needs a token and none is given, then it fails and says to set SMOKE_TOKEN', async () => {
    const result = await make(['smoke', `URL=${server.url}`])
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('the instance requires a token: set SMOKE_TOKEN')
  }, 60_000)

  it('when no URL is given, then it prints its usage and exits 2', async () => {
    const result = await make(['smoke'])
    expect(result.code).toBe(2)
    expect(result.output).toContain('usage: make smoke URL=http://host:port')
  }, 60_000)
})
