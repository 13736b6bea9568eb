/**
 * What a fleet's heartbeats cost, in process: `bun bench/consumer-reports.ts`.
 *
 * The service as the entry points build it (buildService: a real SQLite file, metrics and
 * access log on), one config, and FLEET consumers reporting at once through app.handle, ROUNDS
 * times (each round a fleet-wide heartbeat). Reported: the store writes the reports took (from
 * store_operation_duration_seconds_count), wall time of a round, and CPU per report; with the
 * default CONSUMERS_FLUSH_MS (200) and with 5.
 * Environment: FLEET (default 1000), ROUNDS (default 5).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { buildService } from '../src/service.ts'
import { loadSettings } from '../src/settings.ts'
import { openBunSqlite } from '../src/store/sqlite/sqlite-bun.ts'
import { tempDir } from '../test/support/server.ts'
import { median } from './report.ts'

const fleet = Number(process.env.FLEET ?? 1000)
const rounds = Number(process.env.ROUNDS ?? 5)

async function measure(flushMs: string) {
  const dir = tempDir('bench-consumers-')
  const settings = loadSettings({
    DATABASE_URL: `sqlite:${join(dir, 'configs.db')}`,
    LOG_LEVEL: 'silent',
    CONSUMERS_FLUSH_MS: flushMs,
    CONSUMERS_MAX_PER_CONFIG: String(fleet),
  })
  const service = await buildService(settings, { openSqlite: openBunSqlite })
  const base = 'http://bench.internal'
  const put = await service.app.handle(
    new Request(`${base}/configs/bench-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"metadata":{"v":1}}',
    }),
  )
  const revision = Number(put.headers.get('etag')?.replaceAll('"', ''))
  const body = JSON.stringify({ revision, state: 'applied' })
  const walls: number[] = []
  const cpu: number[] = []
  for (let round = 0; round < rounds; round++) {
    const start = performance.now()
    const usage = process.cpuUsage()
    const answers = await Promise.all(
      Array.from({ length: fleet }, (_, i) =>
        service.app.handle(
          new Request(`${base}/configs/bench-1/consumers/pod-${i}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body,
          }),
        ),
      ),
    )
    const used = process.cpuUsage(usage)
    walls.push(performance.now() - start)
    cpu.push((used.user + used.system) / fleet)
    if (answers.some((a) => a.status !== 200)) throw new Error('a report was refused')
  }
  const exposition = await service.metrics.scrape()
  const writes = /store_operation_duration_seconds_count\{operation="consumers\.write",backend="sqlite"\} (\d+)/.exec(
    exposition,
  )?.[1]
  await service.consumers.close()
  await service.store.close()
  rmSync(dir, { recursive: true, force: true })
  return { flushMs, writes: Number(writes), reports: fleet * rounds, wallMs: median(walls), cpuUs: median(cpu) }
}

for (const flushMs of ['200', '5']) {
  const r = await measure(flushMs)
  console.log(
    `CONSUMERS_FLUSH_MS=${r.flushMs}: ${r.reports} reports in ${r.writes} store writes; ` +
      `a round of ${fleet}: ${r.wallMs.toFixed(0)} ms wall (median), ${r.cpuUs.toFixed(1)} us CPU per report`,
  )
}
process.exit(0)
