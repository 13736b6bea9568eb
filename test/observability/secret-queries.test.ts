/**
 * No log line of a real service process (Bun and Deno), spans written as lines included, holds
 * a secret sent in a query string: not for requests that are answered, and not for one that
 * fails with an internal error, whose `request failed` line logs the request's URL.
 */
import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { type Runtime, startServer } from '../support/server.ts'
import { PROCESS_WAIT_MS } from '../support/wait.ts'

type Line = Record<string, unknown>

/** Waits (bounded) for a line; the service writes its lines before it answers, the pipe may lag. */
async function lineOf(lines: unknown[], matches: (line: Line) => boolean, what: string): Promise<Line> {
  const deadline = Date.now() + PROCESS_WAIT_MS
  for (;;) {
    const line = lines.find((each) => typeof each === 'object' && each !== null && matches(each as Line))
    if (line) return line as Line
    if (Date.now() > deadline) throw new Error(`no ${what} line`)
    await Bun.sleep(10)
  }
}

describe.each(['bun', 'deno'] as Runtime[])('secrets in query strings (%s)', (runtime) => {
  it('when requests carry a secret in their query, answered and failed with an error, then no log line holds it and the failure names the parameter', async () => {
    const secret = `qs-${randomBytes(12).toString('hex')}`
    const token = randomBytes(16).toString('hex')
    const server = await startServer({ runtime, env: { API_TOKEN: token, OTEL_TRACES_EXPORTER: 'console' } })
    try {
      const write = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
      const answered = [
        await fetch(`${server.url}/configs/datacenter-1?access_token=${secret}`),
        await fetch(`${server.url}/configs?access_token=${secret}`),
        await fetch(`${server.url}/nowhere?access_token=${secret}`),
      ]
      expect(answered.map((response) => response.status)).toEqual([200, 400, 404])
      // Someone drops the table behind the service's back: the next write fails inside SQLite.
      const database = new Database(server.databaseUrl.slice('sqlite:'.length))
      database.run('DROP TABLE configs')
      database.close()
      const failed = await fetch(`${server.url}/configs/datacenter-1?access_token=${secret}`, {
        method: 'PUT',
        headers: write,
        body: '{"metadata":{}}',
      })
      expect(failed.status).toBe(500)
      const failure = await lineOf(server.lines, (line) => line.msg === 'request failed', 'request failed')
      expect(failure.url).toBe(`${new URL(server.url).origin}/configs/datacenter-1?access_token=[redacted]`)
      await server.stop()
      await lineOf(server.lines, (line) => line.msg === 'shutdown complete', 'shutdown complete')
      expect(server.rawStdout.filter((line) => line.includes(secret))).toEqual([])
      expect(server.stderr.filter((line) => line.includes(secret))).toEqual([])
    } finally {
      await server.stop()
    }
  }, 60_000)
})
