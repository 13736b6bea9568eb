/**
 * CPU time per request through the app itself (app.handle, no socket) for two source trees, in
 * one process: `bun bench/handle-cpu.ts <tree A> [<tree B>]` (B defaults to this checkout; a
 * tree is a directory with src/ and a node_modules link, e.g. from `git archive <commit>`).
 * Each app is built as the service builds it (buildService: metrics, access log to a discarded
 * sink, SQLite in memory with 10,000 configs). Rounds alternate A, B, B, A, ...; CPU time
 * (user + system) moves far less with other load on the machine than requests per second do,
 * so a difference of a few percent shows.
 * Environment: CPU_ROUNDS (default 8), CPU_REQUESTS per round and path (default 20000).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { datasetName, metadataFor } from './dataset.ts'
import { median } from './report.ts'
import { GET_ONE_PATH, LIST_PATH } from './scenarios.ts'

const [treeA, treeB = resolve(import.meta.dir, '..')] = process.argv.slice(2).map((tree) => resolve(tree))
if (!treeA) throw new Error('usage: bun bench/handle-cpu.ts <tree A> [<tree B>]')
const rounds = Number(process.env.CPU_ROUNDS ?? 8)
const requests = Number(process.env.CPU_REQUESTS ?? 20_000)
const CONFIGS = 10_000
interface Scenario {
  title: string
  path: string
  weight: number
  /** A write: PUT this body (answered 200). */
  put?: string
}

const PUT_NAME = datasetName(7)
const PATHS: Scenario[] = [
  { title: 'GET one config', path: GET_ONE_PATH, weight: 1 },
  { title: 'GET list of 100 configs', path: LIST_PATH, weight: 0.1 },
  // In-memory SQLite: a write's CPU (validation, store, history, index, logs) without the fsync.
  {
    title: 'PUT one config',
    path: `/configs/${PUT_NAME}`,
    weight: 0.25,
    put: JSON.stringify({ metadata: metadataFor(7) }),
  },
]

interface App {
  handle(request: Request): Promise<Response>
}

async function build(tree: string): Promise<App> {
  const { buildService } = await import(`${tree}/src/service.ts`)
  const { loadSettings } = await import(`${tree}/src/settings.ts`)
  // Trees from before the store folders were split keep the driver one level up.
  const driver = existsSync(`${tree}/src/store/sqlite/sqlite-bun.ts`)
    ? 'store/sqlite/sqlite-bun.ts'
    : 'store/sqlite-bun.ts'
  const { openBunSqlite } = await import(`${tree}/src/${driver}`)
  const service = await buildService(
    loadSettings({ DATABASE_URL: 'sqlite::memory:', SEED: 'false', LOG_LEVEL: 'info' }),
    { openSqlite: openBunSqlite },
    { logSink: { write() {}, flush: (done?: () => void) => done?.() } },
  )
  const app = service.app as App
  for (let i = 0; i < CONFIGS; i++) {
    const body = JSON.stringify({ dcname: datasetName(i), metadata: metadataFor(i) })
    const response = await app.handle(
      new Request('http://localhost/configs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
    )
    if (response.status !== 201) throw new Error(`seeding ${datasetName(i)}: ${response.status}`)
  }
  return app
}

/** Microseconds of CPU per request. */
async function measure(app: App, { path, put }: Scenario, count: number): Promise<number> {
  const url = `http://localhost${path}`
  const init: RequestInit = put ? { method: 'PUT', headers: { 'content-type': 'application/json' }, body: put } : {}
  // A full collection first, not counted: otherwise one lands in whichever round it falls due,
  // and that round's ratio says more about the collector than about the code.
  Bun.gc(true)
  const before = process.cpuUsage()
  for (let i = 0; i < count; i++) {
    const response = await app.handle(new Request(url, init))
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`)
    await response.arrayBuffer()
  }
  const used = process.cpuUsage(before)
  return (used.user + used.system) / count
}

const apps = { a: await build(treeA), b: await build(treeB) }
console.error(`A ${treeA}\nB ${treeB}\n${rounds} rounds of ${requests} requests (a tenth for the list)`)
console.log('| path | A us CPU/request | B us CPU/request | B/A (median) | B/A per round |')
console.log('| --- | --- | --- | --- | --- |')
for (const scenario of PATHS) {
  const { title, weight } = scenario
  const count = Math.round(requests * weight)
  for (const app of Object.values(apps)) await measure(app, scenario, count) // warm-up
  const cost = { a: [] as number[], b: [] as number[] }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)
    for (const which of order) cost[which].push(await measure(apps[which], scenario, count))
  }
  const ratios = cost.b.map((value, i) => value / (cost.a[i] as number))
  console.log(
    `| ${title} | ${median(cost.a).toFixed(1)} | ${median(cost.b).toFixed(1)} | ${median(ratios).toFixed(3)}x | ` +
      `${ratios.map((r) => r.toFixed(2)).join(' ')} |`,
  )
}
process.exit(0)
