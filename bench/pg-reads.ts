/**
 * Consistent reads on PostgreSQL, in process, for two source trees: `bun bench/pg-reads.ts
 * <tree A> [<tree B>]` (B defaults to this checkout; a tree as for handle-cpu.ts). Each tree's
 * service is built as the service builds it (metrics and access log on, the log discarded) on a
 * database of its own in one throwaway PostgreSQL, with 2,000 configs. A round runs
 * PG_READS_CONCURRENCY (default 32) callers that each GET one config after another through
 * app.handle; rounds alternate A, B, B, A, ... Per read: the CPU time of this process (both
 * services run in it, one at a time) and of the PostgreSQL server's processes, and revision
 * queries (transactions the database committed: reads run none of their own). No socket: the
 * cost of answering after a later event-loop turn (bench/late-answer.ts) is not in it.
 *
 * Environment: PG_READS_ROUNDS (default 6), PG_READS_PER_ROUND (default 20000).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import postgres from 'postgres'
import { startPostgres } from '../test/support/postgres.ts'
import { datasetName, metadataFor } from './dataset.ts'
import { median } from './report.ts'

const [treeA, treeB = resolve(import.meta.dir, '..')] = process.argv.slice(2).map((tree) => resolve(tree))
if (!treeA) throw new Error('usage: bun bench/pg-reads.ts <tree A> [<tree B>]')
const rounds = Number(process.env.PG_READS_ROUNDS ?? 6)
const perRound = Number(process.env.PG_READS_PER_ROUND ?? 20_000)
const concurrency = Number(process.env.PG_READS_CONCURRENCY ?? 32)
const CONFIGS = 2_000

interface App {
  handle(request: Request): Promise<Response>
}

function ticks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
}

/** CPU time of the postmaster and its children so far, in microseconds. */
function serverMicros(postmaster: number): number {
  let total = ticks(postmaster)
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (parentOf(Number(name)) === postmaster) total += ticks(Number(name))
    } catch {
      // The process ended meanwhile.
    }
  }
  return (total * 1e6) / 100
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
    const service = await buildService(
      loadSettings({ DATABASE_URL: url, SEED: 'false', LOG_LEVEL: 'info' }),
      { openSqlite: openBunSqlite },
      { logSink: { write() {}, flush: (done?: () => void) => done?.() } },
    )
    const app = service.app as App
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
    let next = 0
    const caller = async () => {
      while (next < count) {
        const i = next++
        const response = await app.handle(new Request(`http://localhost/configs/${datasetName(i % CONFIGS)}`))
        if (response.status !== 200) throw new Error(`GET answered ${response.status}`)
        await response.arrayBuffer()
      }
    }
    await Promise.all(Array.from({ length: concurrency }, caller))
    const wallMs = performance.now() - started
    const server = serverMicros(postmaster)
    const own = process.cpuUsage(before.own)
    const queries = (await commits(database)) - before.commits
    return {
      ownUs: (own.user + own.system) / count,
      serverUs: (server - before.server) / count,
      queriesPerRead: queries / count,
      readsPerSecond: (count / wallMs) * 1000,
    }
  }

  const apps = { a: await build(treeA), b: await build(treeB) }
  console.error(`A ${treeA}\nB ${treeB}\n${rounds} rounds of ${perRound} reads, ${concurrency} at a time`)
  for (const app of Object.values(apps)) await measure(app, perRound / 4)
  const results = { a: [] as Awaited<ReturnType<typeof measure>>[], b: [] as Awaited<ReturnType<typeof measure>>[] }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)
    for (const which of order) results[which].push(await measure(apps[which], perRound))
  }
  const column = (which: 'a' | 'b', key: keyof (typeof results.a)[number]) => median(results[which].map((r) => r[key]))
  console.log('| tree | service us CPU/read | PostgreSQL us CPU/read | revision queries/read | reads/s (wall) |')
  console.log('| --- | --- | --- | --- | --- |')
  for (const which of ['a', 'b'] as const) {
    console.log(
      `| ${which.toUpperCase()} | ${column(which, 'ownUs').toFixed(1)} | ${column(which, 'serverUs').toFixed(1)} | ` +
        `${column(which, 'queriesPerRead').toFixed(3)} | ${column(which, 'readsPerSecond').toFixed(0)} |`,
    )
  }
  const ratios = results.b.map(
    (b, i) => (b.ownUs + b.serverUs) / ((results.a[i]?.ownUs ?? 0) + (results.a[i]?.serverUs ?? 0)),
  )
  console.log(
    `B/A CPU per read (service + PostgreSQL), per round: ${ratios.map((r) => r.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(3)}x`,
  )
  await admin.end()
} finally {
  await server.dispose()
}
process.exit(0)
