/**
 * Reads of two source trees side by side with wrk, in one run, against the Bun.serve ceiling:
 * `bun bench/read-ab.ts <tree A> [<tree B>]` (B defaults to this checkout; a tree is a directory
 * with src/ and a node_modules link, e.g. from `git archive <commit>`). Each tree's service runs
 * as `make bench` runs it (src/main.ts, metrics and access log on, pinned to the server core,
 * wrk on the other) on a database of its own with the same 10,000 configs; rounds alternate A,
 * B, ceiling, rotating the order. Per round: req/s, each service's ratio to the ceiling, and the
 * service's CPU time per request from /proc (user + system), which moves less with the load.
 *
 * Environment: AB_STORE=sqlite|postgres, AB_ROUNDS (default 5), AB_SECONDS (default 3),
 * AB_CONNECTIONS (default 32), AB_ONLY=get-one,list-100.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { datasetName, seed } from './dataset.ts'
import { type Postgres, startPostgres } from './postgres.ts'
import { freePort, type Started, startPinned } from './processes.ts'
import { median } from './report.ts'
import { CAPTURED_PATHS, GET_ONE_PATH, LIST_PATH } from './scenarios.ts'
import { wrk } from './wrk.ts'

const [treeA, treeB = resolve(import.meta.dir, '..')] = process.argv.slice(2).map((tree) => resolve(tree))
if (!treeA) throw new Error('usage: bun bench/read-ab.ts <tree A> [<tree B>]')
const env = process.env
const store = env.AB_STORE === 'postgres' ? 'postgres' : 'sqlite'
const rounds = Number(env.AB_ROUNDS ?? 5)
const seconds = Number(env.AB_SECONDS ?? 3)
const connections = Number(env.AB_CONNECTIONS ?? 32)
const only = env.AB_ONLY?.split(',').filter(Boolean)
const PATHS = [
  { id: 'get-one', path: GET_ONE_PATH },
  { id: 'list-100', path: LIST_PATH },
].filter(({ id }) => !only || only.includes(id))

const work = mkdtempSync(join(tmpdir(), 'read-ab-'))
const stops: (() => Promise<void>)[] = []
const log = (message: string) => console.error(`[read-ab ${new Date().toISOString().slice(11, 19)}] ${message}`)

/** CPU time (user + system) of a process so far, in microseconds. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100
}

async function startService(tree: string, name: string, pg: Postgres | undefined): Promise<Started> {
  const port = freePort()
  const databaseUrl = pg ? await pg.createDatabase(name) : `sqlite:${join(work, `${name}.db`)}`
  const service = await startPinned({
    command: [process.execPath, join(tree, 'src/main.ts')],
    cwd: work,
    env: { SERVE_PORT: String(port), DATABASE_URL: databaseUrl, SEED: 'false', LOG_LEVEL: 'info' },
    port,
    readyPaths: ['/readyz'],
    logFile: join(work, `${name}.log`),
  })
  stops.push(service.stop)
  await seed(service.url, 0, 10_000, datasetName)
  return service
}

try {
  const pg = store === 'postgres' ? await startPostgres() : undefined
  if (pg) stops.push(pg.stop)
  const a = await startService(treeA, 'a', pg)
  const b = await startService(treeB, 'b', pg)
  const captured: Record<string, unknown> = {}
  for (const path of CAPTURED_PATHS) {
    const response = await fetch(a.url + path)
    const headers: Record<string, string> = {}
    for (const name of ['content-type', 'etag', 'x-revision', 'link']) {
      const value = response.headers.get(name)
      if (value !== null) headers[name] = value
    }
    captured[path] = { status: response.status, headers, body: await response.text() }
  }
  writeFileSync(join(work, 'captured.json'), JSON.stringify(captured))
  const ceilingPort = freePort()
  const ceiling = await startPinned({
    command: [process.execPath, join(import.meta.dir, 'ceiling.ts'), String(ceilingPort), join(work, 'captured.json')],
    port: ceilingPort,
    readyPaths: [GET_ONE_PATH],
    logFile: join(work, 'ceiling.log'),
  })
  stops.push(ceiling.stop)
  const systems = { a, b, ceiling } as const
  log(
    `A ${treeA}\nB ${treeB}\n${store}, ${rounds} rounds of ${seconds} s at ${connections} connections, load ${loadavg()[0]}`,
  )
  for (const { id, path } of PATHS) {
    const rps: Record<string, number[]> = { a: [], b: [], ceiling: [] }
    const cpu: Record<string, number[]> = { a: [], b: [] }
    const run = async (name: keyof typeof systems, durationSec: number) => {
      const system = systems[name]
      const before = cpuMicros(system.process.pid)
      const result = await wrk({ url: system.url + path, connections, durationSec })
      if (name !== 'ceiling') cpu[name]?.push((cpuMicros(system.process.pid) - before) / result.requests)
      return result.rps
    }
    for (const name of ['a', 'b', 'ceiling'] as const) await run(name, 2) // warm-up
    for (const name of ['a', 'b'] as const) cpu[name] = []
    const orders = [
      ['a', 'b', 'ceiling'],
      ['b', 'ceiling', 'a'],
      ['ceiling', 'a', 'b'],
    ] as const
    for (let round = 0; round < rounds; round++) {
      for (const name of orders[round % 3] as readonly (keyof typeof systems)[])
        rps[name]?.push(await run(name, seconds))
    }
    const ratios = (name: 'a' | 'b') => rps[name]?.map((value, i) => value / (rps.ceiling?.[i] as number)) ?? []
    const fmt = (values: number[], digits = 2) => values.map((v) => v.toFixed(digits)).join(' ')
    console.log(`${id} (${path}), ${connections} conns, load ${(loadavg()[0] ?? 0).toFixed(1)}`)
    console.log(`  ceiling req/s median ${median(rps.ceiling ?? []).toFixed(0)}`)
    for (const name of ['a', 'b'] as const) {
      console.log(
        `  ${name}: req/s ${median(rps[name] ?? []).toFixed(0)}, ratio ${median(ratios(name)).toFixed(2)}x (${fmt(ratios(name))}), ` +
          `CPU/request ${median(cpu[name] ?? []).toFixed(1)} us (${fmt(cpu[name] ?? [], 1)})`,
      )
    }
    const bOverA = (rps.b ?? []).map((value, i) => value / (rps.a?.[i] as number))
    console.log(`  B/A req/s per round ${fmt(bOverA)}, median ${median(bOverA).toFixed(2)}x`)
  }
} finally {
  for (const stop of stops.reverse()) await stop().catch((error) => log(`stop: ${error}`))
  rmSync(work, { recursive: true, force: true })
}
process.exit(0)
