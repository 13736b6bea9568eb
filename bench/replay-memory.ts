/**
 * Resident memory of the service while clients that read nothing replay the history: a real
 * server process, a history of N writes of 4 kB, then W watchers `since=0` that take the first
 * chunk and stop reading at the socket. Reports the service's RSS before and at its peak over
 * the observation, the slowest `/healthz` answer meanwhile, and what /metrics says the watchers
 * hold. BENCH_ENTRY runs another checkout's src/main.ts (e.g. main, for "before").
 * Usage: bun bench/replay-memory.ts [writes=2000] [watchers=12] [seconds=10]
 * (BENCH_STORE=postgres: on a throwaway PostgreSQL server instead of a SQLite file)
 */
import { parseExposition, sampleValue } from '../test/support/exposition-parser.ts'
import { type PostgresServer, startPostgres } from '../test/support/postgres.ts'
import { startServer } from '../test/support/server.ts'
import { StalledWatch } from '../test/support/stalled-watch.ts'
import { rssMiB } from './processes.ts'

const writes = Number(process.argv[2] ?? 2000)
const watchers = Number(process.argv[3] ?? 12)
const seconds = Number(process.argv[4] ?? 10)
const body = JSON.stringify({ metadata: { body: 'x'.repeat(4096) } })
const entry = process.env.BENCH_ENTRY
const postgres: PostgresServer | undefined = process.env.BENCH_STORE === 'postgres' ? await startPostgres() : undefined
const server = await startServer({
  databaseUrl: await postgres?.createDatabase('replay_bench'),
  env: { SEED: 'false' },
  command: entry === undefined ? undefined : [process.execPath, entry],
})

try {
  const base = server.url
  let next = 0
  const writer = async () => {
    for (let i = next++; i < writes; i = next++) {
      const headers = { 'content-type': 'application/json' }
      const response = await fetch(`${base}/configs/replay-${i}`, { method: 'PUT', headers, body })
      await response.arrayBuffer()
      if (response.status >= 300) throw new Error(`PUT answered ${response.status}`)
    }
  }
  await Promise.all(Array.from({ length: 16 }, writer))
  Bun.gc(true)
  await Bun.sleep(1000)
  const before = rssMiB(server.process.pid)

  const stalled = await Promise.all(Array.from({ length: watchers }, () => StalledWatch.open(base, 'since=0')))
  let peak = before
  let slowestHealthz = 0
  const until = performance.now() + seconds * 1000
  while (performance.now() < until) {
    const asked = performance.now()
    await (await fetch(`${base}/healthz`)).arrayBuffer()
    slowestHealthz = Math.max(slowestHealthz, performance.now() - asked)
    peak = Math.max(peak, rssMiB(server.process.pid))
    await Bun.sleep(250)
  }
  const families = parseExposition(await (await fetch(`${base}/metrics`)).text())
  const at = rssMiB(server.process.pid)
  for (const watch of stalled) watch.close()
  const round = (n: number) => Math.round(n * 10) / 10
  console.log(
    JSON.stringify(
      {
        store: server.databaseUrl.split(':')[0],
        entry: entry ?? 'src/main.ts',
        writes,
        watchers,
        seconds,
        rssBeforeMiB: round(before),
        rssPeakMiB: round(peak),
        rssAtEndMiB: round(at),
        slowestHealthzMs: round(slowestHealthz),
        watchersConnected: sampleValue(families, 'watchers_connected'),
        watchersHeldBytes: sampleValue(families, 'watchers_held_bytes'),
        watchersDropped: sampleValue(families, 'watchers_dropped_total'),
      },
      null,
      2,
    ),
  )
} finally {
  await server.stop()
  await postgres?.dispose()
}
