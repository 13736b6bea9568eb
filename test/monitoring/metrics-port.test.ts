/**
 * METRICS_PORT: `/metrics` on a port of its own, on Bun and on Deno, with real processes. The
 * API's port then answers 404 for it, so that an Ingress in front of the API never shows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { parseExposition } from '../support/exposition-parser.ts'
import { ROOT, type RunningServer, type Runtime, runtimeCommand, startServer, tempDir } from '../support/server.ts'

const SLOW = 60_000

function metricsPortOf(server: RunningServer): number {
  const line = server.lines.find((l) => (l as { msg?: string }).msg === 'metrics listening') as
    | { port: number }
    | undefined
  if (!line) throw new Error(`no "metrics listening" line: ${server.rawStdout.join('\n')}`)
  return line.port
}

for (const runtime of ['bun', 'deno'] as Runtime[]) {
  describe(`METRICS_PORT on ${runtime}`, () => {
    let server: RunningServer
    let metricsUrl: string

    beforeAll(async () => {
      server = await startServer({ runtime, env: { METRICS_PORT: '0' } })
      metricsUrl = `http://127.0.0.1:${metricsPortOf(server)}`
    }, SLOW)
    afterAll(async () => {
      await server?.stop()
    })

    it('when set, then /metrics answers on that port in the text format, with the API traffic counted', async () => {
      expect(metricsPortOf(server)).not.toBe(server.port)
      expect((await fetch(`${server.url}/configs/datacenter-1`)).status).toBe(200)
      const response = await fetch(`${metricsUrl}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      const families = parseExposition(await response.text())
      const requests = families.get('http_requests_total')?.samples ?? []
      expect(requests.some((s) => s.labels.route === '/configs/:dcname' && s.labels.status === '200')).toBe(true)
      // Scrapes are Prometheus' traffic on the metrics port, not the API's.
      expect(requests.some((s) => s.labels.route === '/metrics')).toBe(false)
    })

    it('when /metrics is asked of the API port, then it is a 404 problem like any unknown path', async () => {
      const response = await fetch(`${server.url}/metrics`)
      expect(response.status).toBe(404)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      expect(((await response.json()) as { status: number }).status).toBe(404)
    })

    it('when the metrics port is asked for anything but GET /metrics, then it answers 404 or 405 problems', async () => {
      const other = await fetch(`${metricsUrl}/configs`)
      expect([other.status, other.headers.get('content-type')]).toEqual([404, 'application/problem+json'])
      const post = await fetch(`${metricsUrl}/metrics`, { method: 'POST', body: 'x' })
      expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD'])
    })
  })

  describe(`METRICS_PORT that cannot be had, on ${runtime}`, () => {
    it(
      'when the port is taken, then start-up stops with one line naming METRICS_PORT',
      async () => {
        const holder = Bun.listen({ hostname: '0.0.0.0', port: 0, socket: { data() {} } })
        try {
          const result = await runToExit(runtime, { METRICS_PORT: String(holder.port) })
          expect(result.code).toBe(1)
          expect(result.stderr).toEqual([`cannot start: METRICS_PORT=${holder.port}: the port is already in use`])
        } finally {
          holder.stop(true)
        }
      },
      SLOW,
    )
  })
}

describe('METRICS_PORT settings', () => {
  for (const [value, message] of [
    ['http', 'invalid setting METRICS_PORT: expected a whole number, got "http"'],
    ['70000', 'invalid setting METRICS_PORT: expected 0 to 65535, got 70000'],
    ['4999', 'invalid setting METRICS_PORT: must differ from SERVE_PORT (4999)'],
  ]) {
    it(
      `when METRICS_PORT is ${value}, then start-up stops with one line naming it`,
      async () => {
        const result = await runToExit('bun', { SERVE_PORT: '4999', METRICS_PORT: value as string })
        expect([result.code, result.stderr]).toEqual([2, [message as string]])
      },
      SLOW,
    )
  }
})

/** Runs the service until it exits by itself (start-up failures); gives up after 30 s. */
async function runToExit(runtime: Runtime, env: Record<string, string>) {
  const child = Bun.spawn(runtimeCommand(runtime), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      SERVE_PORT: '0',
      DATABASE_URL: `sqlite:${tempDir()}/configs.db`,
      ...env,
    },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
  clearTimeout(timer)
  return { code, stderr: stderr.split('\n').filter((line) => line.trim() !== '') }
}
