/**
 * A real Prometheus (Debian's binary, test/support/ensure-prometheus.sh) scraping a small fake
 * workload every second: the workload serves `workload_errors_total{test=...}`, whose values a
 * test sets, so that an alert-like query such as `workload_errors_total{test="a"} > 0` returns a
 * series once Prometheus has scraped the raised value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Server, Subprocess } from 'bun'
import { freePort } from './postgres.ts'
import { waitFor } from './wait.ts'

export interface FakeWorkload {
  url: string
  /** Sets the error count of the series labelled `test`. */
  setErrors(test: string, value: number): void
}

export interface ScrapingPrometheus {
  url: string
  workload: FakeWorkload
  /** The series `query` returns now. */
  query(query: string): Promise<unknown[]>
  close(): Promise<void>
}

export async function startPrometheus(): Promise<ScrapingPrometheus> {
  const errors = new Map<string, number>()
  const workloadServer: Server<undefined> = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: () => {
      const lines = ['# TYPE workload_errors_total counter']
      for (const [test, value] of errors) lines.push(`workload_errors_total{test="${test}"} ${value}`)
      return new Response(`${lines.join('\n')}\n`, { headers: { 'content-type': 'text/plain; version=0.0.4' } })
    },
  })
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-rollouts-'))
  writeFileSync(
    join(dir, 'prometheus.yml'),
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: 'workload', static_configs: [{ targets: [`127.0.0.1:${workloadServer.port}`] }] }],
    }),
  )
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const binary = Bun.which('prometheus')
  if (!binary) throw new Error('prometheus is not on PATH: run test/support/ensure-prometheus.sh (make test does)')
  const process: Subprocess<'ignore', 'pipe', 'pipe'> = Bun.spawn(
    [
      binary,
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
  )
  const query = async (expr: string): Promise<unknown[]> => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)
    const body = (await response.json()) as { data?: { result?: unknown[] } }
    return body.data?.result ?? []
  }
  const ready = () =>
    fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    )
  await waitFor(ready, 30_000, 'Prometheus to be ready')
  // A first scrape of the workload, so that a test's raised value is the next scrape away.
  await waitFor(async () => (await query('up{job="workload"} == 1')).length > 0, 30_000, 'a first scrape')
  return {
    url,
    workload: {
      url: `http://127.0.0.1:${workloadServer.port}`,
      setErrors: (test, value) => errors.set(test, value),
    },
    query,
    async close() {
      process.kill()
      await process.exited
      workloadServer.stop(true)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
