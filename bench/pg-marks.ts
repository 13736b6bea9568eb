/**
 * What one progress mark costs against one revision query (issue 25), on a throwaway PostgreSQL:
 * `bun bench/pg-marks.ts <tree>`, the tree with bench/experiments/progress-marks.patch applied
 * (a tree as for handle-cpu.ts). One store handle of that tree asks for a fresh revision
 * PG_MARKS_CALLS (default 4000) times, 4 at a time (as the read rounds may: MAX_QUERIES_OUT),
 * either with the revision query (`SELECT revision FROM store_state` on the pool) or with a mark
 * (`pg_notify` on its own channel through the listen connection, answered once it came back);
 * and, to tell the connection from the statement apart, the revision query pipelined on one
 * connection of its own ("query, one connection"); rounds alternate in an order that turns. With PG_MARKS_LISTENERS (default "0,3") more
 * handles on the same database, idle, as other replicas: each of them LISTENs, so PostgreSQL
 * wakes its backend for every mark too. Per call: the CPU time of this process and of the
 * PostgreSQL server's processes, and the median latency.
 *
 * Environment: PG_MARKS_ROUNDS (default 6), PG_MARKS_CALLS, PG_MARKS_LISTENERS.
 */
import { resolve } from 'node:path'
import postgres, { type Sql } from 'postgres'
import { startPostgres } from '../test/support/postgres.ts'
import { parentOf, serverMicros } from './postgres-cpu.ts'
import { median } from './report.ts'

const [tree] = process.argv.slice(2).map((path) => resolve(path))
if (!tree) throw new Error('usage: bun bench/pg-marks.ts <tree with the progress-mark experiment>')
const rounds = Number(process.env.PG_MARKS_ROUNDS ?? 6)
const calls = Number(process.env.PG_MARKS_CALLS ?? 4000)
const listenerCounts = (process.env.PG_MARKS_LISTENERS ?? '0,3').split(',').map(Number)
const AT_ONCE = 4

/** The parts of the experiment's store handle this measures. */
interface Handle {
  sql: Sql
  feed: { markedRevision(fallback: () => Promise<number>): Promise<number> }
  close(): Promise<void>
}

const server = await startPostgres()
try {
  const admin = postgres(server.url(), { max: 1, onnotice: () => {}, fetch_types: false })
  const [row] = await admin<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`
  const postmaster = parentOf(row?.pid ?? 0)
  const { PostgresConfigStore } = await import(`${tree}/src/store/postgres/postgres-store.ts`)
  const revision = async (sql: Sql) => {
    const [state] = await sql<{ revision: string }[]>`SELECT revision FROM store_state`
    return Number(state?.revision ?? 0)
  }
  let single: Sql | undefined
  const ways = {
    query: (handle: Handle) => () => revision(handle.sql),
    'query, one connection': () => () => revision(single as Sql),
    mark: (handle: Handle) => () =>
      handle.feed.markedRevision(() => Promise.reject(new Error('the mark fell back to the query'))),
  }

  async function measure(ask: () => Promise<number>) {
    const before = { own: process.cpuUsage(), server: serverMicros(postmaster) }
    const latencies: number[] = []
    let next = 0
    const caller = async () => {
      while (next++ < calls) {
        const began = performance.now()
        await ask()
        latencies.push(performance.now() - began)
      }
    }
    await Promise.all(Array.from({ length: AT_ONCE }, caller))
    const own = process.cpuUsage(before.own)
    return {
      ownUs: (own.user + own.system) / calls,
      serverUs: (serverMicros(postmaster) - before.server) / calls,
      p50Us: median(latencies) * 1000,
    }
  }

  console.log(
    '| idle listeners | way | client us CPU/call | PostgreSQL us CPU/call | p50 us | CPU over the query, per round (median) |',
  )
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const listeners of listenerCounts) {
    const url = await server.createDatabase('marks')
    const handle = (await PostgresConfigStore.open({ url })) as unknown as Handle
    single = postgres(url, { max: 1, onnotice: () => {}, fetch_types: false })
    const idle: Handle[] = []
    for (let i = 0; i < listeners; i++) idle.push((await PostgresConfigStore.open({ url })) as unknown as Handle)
    // The listen connection is up and caught up once a mark comes back without falling back.
    for (let tries = 0; ; tries++) {
      try {
        await ways.mark(handle)()
        break
      } catch (error) {
        if (tries > 100) throw error
        await Bun.sleep(50)
      }
    }
    type Measured = Awaited<ReturnType<typeof measure>>
    const names = Object.keys(ways) as (keyof typeof ways)[]
    const results = new Map<string, Measured[]>(names.map((way) => [way, []]))
    for (const way of names) await measure(ways[way](handle))
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? names : [...names].reverse()
      for (const way of order) results.get(way)?.push(await measure(ways[way](handle)))
    }
    const cpu = (r: { ownUs: number; serverUs: number }) => r.ownUs + r.serverUs
    for (const way of names) {
      const measured = results.get(way) ?? []
      const column = (key: 'ownUs' | 'serverUs' | 'p50Us') => median(measured.map((r) => r[key])).toFixed(1)
      const ratios = measured.map((r, i) => cpu(r) / cpu(results.get('query')?.[i] ?? r))
      console.log(
        `| ${listeners} | ${way} | ${column('ownUs')} | ${column('serverUs')} | ${column('p50Us')} | ` +
          `${ratios.map((r) => r.toFixed(2)).join(' ')} (${median(ratios).toFixed(2)}x) |`,
      )
    }
    await Promise.all([handle, ...idle].map((h) => h.close()))
    await single.end()
  }
  await admin.end()
} finally {
  await server.dispose()
}
process.exit(0)
