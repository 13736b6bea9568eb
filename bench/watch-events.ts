/**
 * Events per second one watcher receives: a real server process, one SSE watcher, N writes sent
 * as fast as C concurrent writers can, timed until the watcher holds them all. Then the same N
 * events replayed from history (`since`), which the writers' pace does not limit.
 * Usage: bun bench/watch-events.ts [writes=2000] [writers=32]
 * (BENCH_STORE=postgres: on a throwaway PostgreSQL server instead of a SQLite file)
 */
import { type PostgresServer, startPostgres } from '../test/support/postgres.ts'
import { startServer } from '../test/support/server.ts'
import { watch } from '../test/support/sse.ts'

const writes = Number(process.argv[2] ?? 2000)
const writers = Number(process.argv[3] ?? 32)
const postgres: PostgresServer | undefined = process.env.BENCH_STORE === 'postgres' ? await startPostgres() : undefined
const server = await startServer({
  databaseUrl: await postgres?.createDatabase('watch_bench'),
  env: { SEED: 'false', WATCH_BUFFER_EVENTS: String(writes * 2) },
})

try {
  const base = server.url
  const before = Number((await fetch(`${base}/configs?limit=1`)).headers.get('x-revision'))
  const live = await watch(base)

  const started = performance.now()
  let next = 0
  const latencies: number[] = []
  const writer = async () => {
    for (let i = next++; i < writes; i = next++) {
      const sent = performance.now()
      const response = await fetch(`${base}/configs/bench-${i % 256}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ metadata: { team: `team-${i % 100}`, i, monitoring: { enabled: true } } }),
      })
      await response.arrayBuffer()
      if (response.status >= 300) throw new Error(`PUT answered ${response.status}`)
      latencies.push(performance.now() - sent)
    }
  }
  await Promise.all(Array.from({ length: writers }, writer))
  const written = performance.now()
  await live.until(() => live.messages.length >= writes, 60_000, `${writes} live events`)
  const received = performance.now()

  const replayStarted = performance.now()
  const replay = await watch(base, `since=${before}`)
  await replay.until(() => replay.messages.length >= writes, 60_000, `${writes} replayed events`)
  const replayed = performance.now()
  live.close()
  replay.close()

  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  const seconds = (ms: number) => ms / 1000
  console.log(
    JSON.stringify(
      {
        store: server.databaseUrl.split(':')[0],
        writes,
        writers,
        writesPerSec: Math.round(writes / seconds(written - started)),
        writeLatencyMs: { p50: +at(0.5).toFixed(2), p99: +at(0.99).toFixed(2) },
        liveEventsPerSec: Math.round(writes / seconds(received - started)),
        lastEventAfterLastWriteMs: +(received - written).toFixed(1),
        replayEventsPerSec: Math.round(writes / seconds(replayed - replayStarted)),
      },
      null,
      2,
    ),
  )
} finally {
  await server.stop()
  await postgres?.dispose()
}
