/**
 * Consistent reads on PostgreSQL, in process, for two or more source trees: `bun
 * bench/pg-reads.ts <tree A> [<tree B> ...]` (B defaults to this checkout; a tree as for
 * handle-cpu.ts). Each tree's service is built as the service builds it (metrics and access log
 * on, the log discarded) on a database of its own in one throwaway PostgreSQL, with 2,000
 * configs. A round runs PG_READS_CONCURRENCY (default 32) callers that each GET one config after
 * another through app.handle; each round measures every tree once, in an order that turns
 * (A B C, C B A, ...). Per read: the CPU time of this process (every service runs in it, one at
 * a time) and of the PostgreSQL server's processes, transactions the database committed (the
 * revision queries: reads run none of their own; a listening backend woken by a NOTIFY reads it
 * in a transaction too), and the read's latency (app.handle to the body read).
 * No socket: the cost of answering after a later event-loop turn (bench/late-answer.ts) is not
 * in it. Each ratio is a tree's CPU per read over A's in the same round.
 *
 * Environment: PG_READS_ROUNDS (default 6), PG_READS_PER_ROUND (default 20000),
 * PG_READS_IDLE_REPLICAS (default 0: that many more services of the tree on its database,
 * which only listen, as other replicas would; what every read costs them is in PostgreSQL's CPU).
 */
import { resolve } from 'node:path'
import postgres from 'postgres'
import { startPostgres } from '../test/support/postgres.ts'
import { datasetName, metadataFor } from './dataset.ts'
import { parentOf, serverMicros } from './postgres-cpu.ts'
import { median } from './report.ts'

const trees = process.argv.slice(2).map((tree) => resolve(tree))
if (trees.length === 0) throw new Error('usage: bun bench/pg-reads.ts <tree A> [<tree B> ...]')
if (trees.length === 1) trees.push(resolve(import.meta.dir, '..'))
const idleReplicas = Number(process.env.PG_READS_IDLE_REPLICAS ?? 0)
const rounds = Number(process.env.PG_READS_ROUNDS ?? 6)
const perRound = Number(process.env.PG_READS_PER_ROUND ?? 20_000)
const concurrency = Number(process.env.PG_READS_CONCURRENCY ?? 32)
const CONFIGS = 2_000

interface App {
  handle(request: Request): Promise<Response>
}

const server = await startPostgres()
try {
  const admin = postgres(server.url(), { max: 1, onnotice: () => {}, fetch_types: false })
  const [row] = await admin<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`
  const postmaster = parentOf(row?.pid ?? 0)

  async function build(tree: string): Promise<{ app: App; database: string }> {
    const url = await server.createDatabase('reads')
    const { buildService } = await import(`${tree}/src/service.ts`)
    const { loadSettings } = await import(`${tree}/src/settings.ts`)
    const { openBunSqlite } = await import(`${tree}/src/store/sqlite/sqlite-bun.ts`)
    const serviceOf = () =>
      buildService(
        loadSettings({ DATABASE_URL: url, SEED: 'false', LOG_LEVEL: 'info' }),
        { openSqlite: openBunSqlite },
        { logSink: { write() {}, flush: (done?: () => void) => done?.() } },
      )
    const app = (await serviceOf()).app as App
    for (let i = 0; i < idleReplicas; i++) await serviceOf()
    for (let i = 0; i < CONFIGS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const body = JSON.stringify({ dcname: datasetName(i + j), metadata: metadataFor(i + j) })
          const response = await app.handle(
            new Request('http://localhost/configs', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            }),
          )
          if (response.status !== 201) throw new Error(`seeding: ${response.status}`)
        }),
      )
    }
    return { app, database: new URL(url).pathname.slice(1) }
  }

  /** Transactions committed in a database so far (every revision query is one). */
  async function commits(database: string): Promise<number> {
    // Backends report their counts when idle for a second; wait for that.
    await Bun.sleep(1_500)
    const [stats] = await admin<{ n: string }[]>`
      SELECT xact_commit AS n FROM pg_stat_database WHERE datname = ${database}`
    return Number(stats?.n ?? 0)
  }

  async function measure({ app, database }: { app: App; database: string }, count: number) {
    const committed = await commits(database)
    const before = { own: process.cpuUsage(), server: serverMicros(postmaster), commits: committed }
    const started = performance.now()
    const latencies = new Float64Array(count)
    let next = 0
    const caller = async () => {
      while (next < count) {
        const i = next++
        const began = performance.now()
        const response = await app.handle(new Request(`http://localhost/configs/${datasetName(i % CONFIGS)}`))
        if (response.status !== 200) throw new Error(`GET answered ${response.status}`)
        await response.arrayBuffer()
        latencies[i] = performance.now() - began
      }
    }
    await Promise.all(Array.from({ length: concurrency }, caller))
    const wallMs = performance.now() - started
    const server = serverMicros(postmaster)
    const own = process.cpuUsage(before.own)
    const queries = (await commits(database)) - before.commits
    latencies.sort()
    const percentile = (p: number) => (latencies[Math.min(count - 1, Math.floor(count * p))] ?? 0) * 1000
    return {
      p50Us: percentile(0.5),
      p99Us: percentile(0.99),
      ownUs: (own.user + own.system) / count,
      serverUs: (server - before.server) / count,
      queriesPerRead: queries / count,
      readsPerSecond: (count / wallMs) * 1000,
    }
  }

  const apps = []
  for (const tree of trees) apps.push(await build(tree))
  const names = trees.map((_, i) => String.fromCharCode(65 + i))
  console.error(
    `${trees.map((tree, i) => `${names[i]} ${tree}`).join('\n')}\n${rounds} rounds of ${perRound} reads, ` +
      `${concurrency} at a time, ${idleReplicas} idle replicas each`,
  )
  for (const app of apps) await measure(app, perRound / 4)
  const results = apps.map(() => [] as Awaited<ReturnType<typeof measure>>[])
  for (let round = 0; round < rounds; round++) {
    const order = apps.map((_, i) => i)
    if (round % 2 === 1) order.reverse()
    for (const i of order) results[i]?.push(await measure(apps[i] as (typeof apps)[number], perRound))
  }
  type Key = keyof (typeof results)[number][number]
  const column = (i: number, key: Key) => median((results[i] ?? []).map((r) => r[key]))
  const cpu = (r: { ownUs: number; serverUs: number }) => r.ownUs + r.serverUs
  console.log(
    '| tree | service us CPU/read | PostgreSQL us CPU/read | transactions/read | reads/s (wall) | p50 / p99 us | CPU/read over A, per round (median) |',
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- |')
  for (let i = 0; i < apps.length; i++) {
    const ratios = (results[i] ?? []).map((r, round) => cpu(r) / cpu(results[0]?.[round] ?? r))
    console.log(
      `| ${names[i]} | ${column(i, 'ownUs').toFixed(1)} | ${column(i, 'serverUs').toFixed(1)} | ` +
        `${column(i, 'queriesPerRead').toFixed(3)} | ${column(i, 'readsPerSecond').toFixed(0)} | ` +
        `${column(i, 'p50Us').toFixed(0)} / ${column(i, 'p99Us').toFixed(0)} | ` +
        `${ratios.map((r) => r.toFixed(2)).join(' ')} (${median(ratios).toFixed(3)}x) |`,
    )
  }
  await admin.end()
} finally {
  await server.dispose()
}
process.exit(0)
