/**
 * Write latency on each store, side by side in one run: sequential PUTs (one at a time, so each
 * one's latency is that of one durable commit) through a real service process on SQLite and on
 * a throwaway PostgreSQL 15 cluster (fsync on). Then, on PostgreSQL, how many events per second
 * a subscriber of another store handle receives (LISTEN/NOTIFY, read from the events table):
 * live, at the writers' pace, and catching up after being cut off, at its own.
 * Usage: bun bench/write-latency.ts [puts=500] [events=5000]
 */
import { join } from 'node:path'
import type { Config } from '../src/configs/model.ts'
import { PostgresConfigStore } from '../src/store/postgres/postgres-store.ts'
import { startPostgres } from '../test/support/postgres.ts'
import { startServer, tempDir } from '../test/support/server.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }

const puts = Number(process.argv[2] ?? 500)
const events = Number(process.argv[3] ?? 5000)

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

async function sequentialPuts(databaseUrl: string): Promise<number[]> {
  const server = await startServer({ databaseUrl, env: { SEED: 'false', LOG_LEVEL: 'info' } })
  try {
    const latencies: number[] = []
    for (let i = 0; i < puts + 50; i++) {
      const started = performance.now()
      const response = await fetch(`${server.url}/configs/lat-${i % 64}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ metadata: { i, team: `team-${i % 10}`, monitoring: { enabled: true } } }),
      })
      await response.arrayBuffer()
      if (response.status >= 300) throw new Error(`PUT answered ${response.status}`)
      // The first 50 warm the connection pool and the JIT.
      if (i >= 50) latencies.push(performance.now() - started)
    }
    return latencies.sort((a, b) => a - b)
  } finally {
    await server.stop()
  }
}

const report = (name: string, sorted: number[]) =>
  console.log(
    `${name.padEnd(10)} sequential PUT  p50 ${percentile(sorted, 50).toFixed(2)} ms  p99 ${percentile(sorted, 99).toFixed(2)} ms  (n=${sorted.length})`,
  )

const postgres = await startPostgres()
try {
  report('sqlite', await sequentialPuts(`sqlite:${join(tempDir('bench-'), 'configs.db')}`))
  report('postgres', await sequentialPuts(await postgres.createDatabase('latency')))

  const url = await postgres.createDatabase('feed')
  const role = await postgres.createRole('subscriber')
  const writer = await PostgresConfigStore.open({ url, poolSize: 16 })
  const reader = await PostgresConfigStore.open({ url: url.replace('//postgres@', `//${role}@`) })
  let received = 0
  let lastAt = 0
  reader.subscribe(() => {
    received++
    lastAt = performance.now()
  })
  const writeAll = async (count: number) => {
    const started = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < count; i = next++) {
          const config: Config = { dcname: `feed-${i % 256}`, metadata: { i, team: `team-${i % 10}` } }
          await writer.replace(config, {}, author)
        }
      }),
    )
    return performance.now() - started
  }
  const waitFor = async (count: number) => {
    const deadline = Date.now() + 120_000
    while (received < count && Date.now() < deadline) await Bun.sleep(5)
  }

  // Live: the subscriber keeps up with 16 concurrent writers, so this is their pace.
  const liveStarted = performance.now()
  const writeMs = await writeAll(events)
  await waitFor(events)
  console.log(
    `postgres   live: ${received} events in ${((lastAt - liveStarted) / 1000).toFixed(2)} s = ${(received / ((lastAt - liveStarted) / 1000)).toFixed(0)} events/s received ` +
      `(16 concurrent writers: ${(events / (writeMs / 1000)).toFixed(0)} writes/s)`,
  )

  // Catch-up: the subscriber was cut off while the writes happened; once back, it reads them
  // all from the events table. This is the rate one subscriber can take in.
  await postgres.lockOut(role, true)
  await writeAll(events)
  received = 0
  const catchUpStarted = performance.now()
  await postgres.lockOut(role, false)
  await waitFor(events)
  const seconds = (lastAt - catchUpStarted) / 1000
  console.log(
    `postgres   catch-up: ${received} events in ${seconds.toFixed(2)} s = ${(received / seconds).toFixed(0)} events/s received`,
  )
  await Promise.all([writer.close(), reader.close()])
} finally {
  await postgres.dispose()
}
