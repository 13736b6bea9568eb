/**
 * `make bench`: the service and its baselines, side by side in one run.
 * Server processes run on core 0, wrk on core 1; each scenario warms up, then alternates rounds
 * (service, baseline, service, baseline, ...). Prints a table and writes bench/results/*.json.
 *
 * Environment: BENCH_STORE=sqlite|postgres, BENCH_SMOKE=1 (a short run for CI),
 * BENCH_ROUNDS, BENCH_SECONDS (per round), BENCH_ONLY=get-one,search (a subset of scenarios),
 * BENCH_BUN_FLAGS (extra flags for the service's bun, e.g. --cpu-prof), BENCH_KEEP=1 (keep the
 * work dir: service logs, profiles, databases), BENCH_FANOUT_RATE and BENCH_FANOUT_BURST (the writes
 * of the fan-out across replicas: per second, and how many at a time).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { measureFsync, startEtcd } from './baselines.ts'
import { datasetName, poolName, SEARCH_PATH, seed, WRITE_METADATA, WRITE_POOL } from './dataset.ts'
import { type Postgres, startPostgres } from './postgres.ts'
import { freePort, rssMiB, startPinned } from './processes.ts'
import { replicaFanout, replicaFanoutTargets } from './replica-fanout.ts'

/** wrk and the watch clients run here; the servers on processes.ts's SERVER_CORE. */
const CLIENT_CORE = 1

import { median, num, type ScenarioResult, summarize, type Target, table, targetsTable } from './report.ts'
import { CAPTURED_PATHS, CONNECTIONS, type SystemName, scenarios } from './scenarios.ts'
import { type WrkRun, wrk } from './wrk.ts'

const ROOT = resolve(import.meta.dir, '..')
/**
 * The service's two entry points: the bundle the image runs (`bun run bundle`, built at the start
 * of each run), and the sources, as `make run` runs them. Start to ready is measured on both,
 * alternately; the rest on the sources.
 */
const ENTRIES = { bundle: join(ROOT, 'dist/service/main.js'), sources: join(ROOT, 'src/main.ts') } as const
type Entry = keyof typeof ENTRIES
/** As the image runs the bundle: its root filesystem is read-only, so Bun keeps no transpiler cache. */
const ENTRY_ENV: Record<Entry, Record<string, string>> = {
  bundle: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' },
  sources: {},
}
const env = process.env
const smoke = env.BENCH_SMOKE === '1'
const storeKind = env.BENCH_STORE === 'postgres' ? 'postgres' : 'sqlite'
if (env.BENCH_STORE && !['sqlite', 'postgres'].includes(env.BENCH_STORE)) {
  throw new Error(`BENCH_STORE must be sqlite or postgres, got ${env.BENCH_STORE}`)
}
const plan = {
  rounds: Number(env.BENCH_ROUNDS ?? (smoke ? 1 : 5)),
  seconds: Number(env.BENCH_SECONDS ?? (smoke ? 1 : 3)),
  warmupSeconds: smoke ? 0 : 2,
  // Smoke runs only check that everything runs: smaller data, one short round.
  configs: smoke ? 1_000 : 10_000,
  residentConfigs: smoke ? 2_000 : 100_000,
  readyRuns: smoke ? 1 : 5,
  // The service collects the reads' garbage when idle, some seconds after them.
  settleMs: smoke ? 1_000 : 10_000,
  watchers: smoke ? 200 : 5_000,
  watchWrites: smoke ? 5 : 20,
  // Watch fan-out across replicas on one PostgreSQL (bench/replica-fanout.ts).
  replicaFanout: {
    replicas: smoke ? 2 : 4,
    watchers: smoke ? 100 : 20_000,
    generators: 2,
    rate: Number(env.BENCH_FANOUT_RATE ?? (smoke ? 5 : 2)),
    burst: Number(env.BENCH_FANOUT_BURST ?? 1),
    seconds: smoke ? 1 : 10,
    rounds: smoke ? 1 : 2,
    entries: { service: join(ROOT, 'src/main.ts') },
  },
  fsyncSeconds: smoke ? 1 : 2,
  only: env.BENCH_ONLY?.split(',').filter(Boolean),
}
const bunFlags = env.BENCH_BUN_FLAGS?.split(' ').filter(Boolean) ?? []

const work = mkdtempSync(join(tmpdir(), 'config-service-bench-'))
const log = (message: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`)
const cleanups: (() => Promise<void>)[] = []
const startedAt = new Date()
const loadBefore = loadavg()

try {
  await main()
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log(`cleanup: ${error}`))
  if (env.BENCH_KEEP === '1') log(`kept the work dir (logs, profiles, databases): ${work}`)
  else rmSync(work, { recursive: true, force: true })
}

async function main() {
  log(`store ${storeKind}, ${plan.rounds} rounds of ${plan.seconds}s${smoke ? ' (smoke)' : ''}, work dir ${work}`)
  const versions = await toolVersions()
  const bundling = Bun.spawnSync([process.execPath, 'run', 'bundle'], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (bundling.exitCode !== 0) throw new Error(`bun run bundle failed: ${bundling.stderr.toString()}`)

  // The disk's own rate first; in smoke mode alongside the set-up, which it only slows.
  const fsyncRun = measureFsync(work, plan.fsyncSeconds)
  if (!smoke) await fsyncRun

  const pg = storeKind === 'postgres' ? await startPostgres() : undefined
  if (pg) cleanups.push(() => pg.stop())
  const databaseUrl = async (name: string) => (pg ? pg.createDatabase(name) : `sqlite:${join(work, `${name}.db`)}`)

  const etcd = await startEtcd(work, join(work, 'etcd.log'))
  cleanups.push(() => etcd.stop())
  await etcd.fillPool('pool', WRITE_METADATA)

  const serviceLog = join(work, 'service.log')
  // Named once: on PostgreSQL each call creates a database of its own.
  const loadUrl = await databaseUrl('bench_load')
  const seeding = await startService(loadUrl, serviceLog)
  cleanups.push(() => seeding.stop())
  log(`service ready on ${seeding.url} (ready check ${seeding.readyPath}); seeding ${plan.configs} configs`)
  await seed(seeding.url, 0, plan.configs, datasetName)
  await seed(seeding.url, 0, WRITE_POOL, poolName)
  await seeding.stop()
  // Start to ready on the database the target names (the seeded configs and the write pool),
  // before the scenarios add to it; once more after them, below.
  const seededReady = { configs: plan.configs + WRITE_POOL, ...(await startupOn(loadUrl)) }
  const service = await startService(loadUrl, serviceLog)
  cleanups.push(() => service.stop())
  const observability = await observabilityCheck(service.url)

  const ceilingPort = freePort()
  writeFileSync(join(work, 'captured.json'), JSON.stringify(await capture(service.url)))
  const ceiling = await startPinned({
    command: [process.execPath, join(import.meta.dir, 'ceiling.ts'), String(ceilingPort), join(work, 'captured.json')],
    port: ceilingPort,
    readyPaths: [CAPTURED_PATHS[0] as string],
    logFile: join(work, 'ceiling.log'),
  })
  cleanups.push(() => ceiling.stop())

  const results: ScenarioResult[] = []
  for (const scenario of scenarios({
    service: service.url,
    ceiling: ceiling.url,
    etcd: etcd.url,
    workDir: work,
    configs: plan.configs,
  })) {
    if (plan.only && !plan.only.includes(scenario.id)) continue
    for (const connections of CONNECTIONS) {
      log(`${scenario.title} at ${connections} connection(s)`)
      const runOnce = async (system: (typeof scenario.systems)[number], seconds: number) =>
        wrk({
          url: system.url,
          connections,
          durationSec: seconds,
          script: system.script,
          args: system.args ? await system.args() : undefined,
          okStatuses: system.okStatuses,
        })
      if (plan.warmupSeconds > 0) for (const system of scenario.systems) await runOnce(system, plan.warmupSeconds)
      const runs: Partial<Record<SystemName, WrkRun[]>> = {}
      for (let round = 0; round < plan.rounds; round++) {
        for (const system of scenario.systems) {
          const run = await runOnce(system, plan.seconds)
          runs[system.name] = [...(runs[system.name] ?? []), run]
        }
      }
      const result = summarize({
        scenario: scenario.id,
        title: scenario.title,
        connections,
        baseline: scenario.baseline,
        runs,
      })
      log(`  service ${num(result.medianRps.service ?? 0)} req/s, ratio ${num(result.medianRatio, 2)}x`)
      results.push(result)
    }
  }
  await ceiling.stop()
  await etcd.stop()
  const serviceLogStats = {
    bytes: statSync(serviceLog).size,
    lines: readFileSync(serviceLog, 'utf8').split('\n').length - 1,
  }
  await service.stop()

  // The same database as the scenarios left it: POST adds a config per request, so this one
  // holds many more configs (and history) than the target's, and its size is reported.
  const grownReady = {
    ...(await startupOn(loadUrl)),
    sqliteFileMiB: pg ? undefined : sqliteFileMiB(join(work, 'bench_load.db')),
  }
  const fanout =
    plan.only && !plan.only.includes('watch') ? undefined : await watchFanout(await databaseUrl('bench_watch'))
  const replicas = plan.only && !plan.only.includes('replica-fanout') ? undefined : await acrossReplicas(pg)
  const resident = await residentAndStartup(await databaseUrl('bench_resident'))
  const fsync = await fsyncRun
  const targets = [...evaluate(results, resident, seededReady, grownReady, fanout), ...replicaFanoutTargets(replicas)]

  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: commandLine(),
    smoke,
    store: storeKind,
    plan,
    machine: {
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      filesystem: (await Bun.$`stat -f -c %T ${work}`.text()).trim(),
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg(),
      pinning: { servers: 'core 0', wrk: 'core 1' },
    },
    versions,
    service: { ...observability, log: serviceLogStats, bunFlags },
    baselines: { fsyncOpsPerSec: fsync.opsPerSec, pgTestFsync: fsync.raw },
    scenarios: results,
    startup: seededReady,
    startupAfterScenarios: grownReady,
    watchFanout: fanout,
    replicaFanout: replicas,
    resident,
    targets,
  }
  const resultsDir = join(import.meta.dir, 'results')
  mkdirSync(resultsDir, { recursive: true })
  const file = join(
    resultsDir,
    `${startedAt.toISOString().replace(/[:.]/g, '-')}-${storeKind}${smoke ? '-smoke' : ''}.json`,
  )
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)

  const fsyncLine = Object.entries(fsync.opsPerSec)
    .map(([method, ops]) => `${method} ${num(ops)}/s`)
    .join(', ')
  console.log(`\nconfig-service benchmark: ${storeKind}, ${plan.rounds} rounds x ${plan.seconds}s, ${report.command}`)
  console.log(
    `machine: ${report.machine.cpu}, ${report.machine.cores} cores, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  )
  console.log(
    `access log: ${serviceLogStats.lines} lines written to a file; metrics: ${observability.metrics}; ready check: ${resident.readyPath}\n`,
  )
  console.log(table(results))
  console.log(`\ndisk fsync (pg_test_fsync, one 8 kB write): ${fsyncLine}`)
  console.log(
    `start to ready with ${num(seededReady.configs)} configs: bundle (the image's entry) ${num(seededReady.readyMs, 1)} ms, ` +
      `sources ${num(seededReady.sources.readyMs, 1)} ms (medians of ${seededReady.readyRunsMs.length} starts each, in turn); ` +
      `after the scenarios${grownReady.sqliteFileMiB === undefined ? '' : ` (${num(grownReady.sqliteFileMiB, 1)} MiB)`}: ` +
      `bundle ${num(grownReady.readyMs, 1)} ms, sources ${num(grownReady.sources.readyMs, 1)} ms`,
  )
  if (fanout) {
    console.log(
      `watch fan-out: ${num(fanout.watchers)} watchers, ${fanout.writes} writes, ${num(fanout.delivered)} deliveries; ` +
        `service CPU ${num(fanout.cpuUsPerDeliveredEvent, 2)} us per delivered event (user ${num(fanout.userMs)} ms, system ${num(fanout.systemMs)} ms); ` +
        `delivery p50 ${num(fanout.deliveryMs.p50, 1)} ms, p99 ${num(fanout.deliveryMs.p99, 1)} ms; last watcher of a write: median ${num(fanout.lastWatcherMs.median, 1)} ms, max ${num(fanout.lastWatcherMs.max, 1)} ms`,
    )
  }
  if (replicas) {
    for (const [system, summary] of Object.entries(replicas.summary)) {
      console.log(
        `watch fan-out across ${replicas.plan.replicas} replicas, ${num(replicas.plan.watchers)} watchers, ${system}: ` +
          `delivery p50 ${num(summary.deliveryMsP50, 1)} ms, p99 ${num(summary.deliveryMsP99, 1)} ms; ` +
          `CPU per delivered event ${num(summary.cpuUsPerEvent, 2)} us (busiest replica, median of rounds)`,
      )
    }
  }
  console.log(
    `resident: ${num(resident.configs)} configs, RSS ${num(resident.rssAfterStartMiB, 1)} MiB after start, ` +
      `${num(resident.rssAfterReadingAllMiB, 1)} MiB after reading them all, ${num(resident.rssSettledMiB, 1)} MiB after ${num(plan.settleMs / 1000)} s idle; start to ready ${num(resident.readyMs, 1)} ms (median of ${resident.readyRunsMs.length})\n`,
  )
  console.log(targetsTable(targets))
  console.log(`\nresults: ${file}`)
}

function startService(databaseUrl: string, logFile: string, entry: Entry = 'sources') {
  const port = freePort()
  return startPinned({
    command: [process.execPath, ...bunFlags, ENTRIES[entry]],
    cwd: work,
    env: { SERVE_PORT: String(port), DATABASE_URL: databaseUrl, SEED: 'false', LOG_LEVEL: 'info', ...ENTRY_ENV[entry] },
    port,
    readyPaths: ['/readyz', '/healthz', '/configs?limit=1'],
    logFile,
  })
}

/** The ceiling must answer with exactly what the service answers. */
async function capture(serviceUrl: string) {
  const captured: Record<string, { status: number; headers: Record<string, string>; body: string }> = {}
  for (const path of CAPTURED_PATHS) {
    const response = await fetch(serviceUrl + path)
    const body = await response.text()
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${body}`)
    const headers: Record<string, string> = {}
    for (const name of ['content-type', 'etag', 'x-revision', 'link']) {
      const value = response.headers.get(name)
      if (value !== null) headers[name] = value
    }
    captured[path] = { status: response.status, headers, body }
  }
  const matches = JSON.parse(captured[SEARCH_PATH]?.body ?? '[]') as unknown[]
  if (matches.length === 0) throw new Error('the search scenario matches nothing')
  return captured
}

async function observabilityCheck(url: string) {
  const metrics = await fetch(`${url}/metrics`).then(async (r) => {
    const text = await r.text()
    return r.status === 200 && text.includes('http_request')
      ? 'on (/metrics serves http_request metrics)'
      : `absent (/metrics answered ${r.status})`
  })
  return { metrics }
}

/**
 * Start to ready on an existing database, median of `readyRuns` starts of each entry, bundle and
 * sources in turn (so that both see the same load). `readyMs` is the bundle's: what production runs.
 */
async function startupOn(databaseUrl: string) {
  const runs: Record<Entry, number[]> = { bundle: [], sources: [] }
  for (let i = 0; i < plan.readyRuns; i++) {
    for (const entry of ['bundle', 'sources'] as const) {
      const service = await startService(databaseUrl, join(work, 'service-startup.log'), entry)
      runs[entry].push(service.readyMs)
      await service.stop()
    }
  }
  const relative = (path: string) => path.slice(ROOT.length + 1)
  return {
    entry: relative(ENTRIES.bundle),
    readyMs: median(runs.bundle),
    readyRunsMs: runs.bundle,
    sources: { entry: relative(ENTRIES.sources), readyMs: median(runs.sources), readyRunsMs: runs.sources },
  }
}

type StartupResult = Awaited<ReturnType<typeof startupOn>>

/** A SQLite store's size: the file and its write-ahead log (what a start's check reads). */
function sqliteFileMiB(path: string): number {
  const size = (file: string) => (existsSync(file) ? statSync(file).size : 0)
  return (size(path) + size(`${path}-wal`)) / 2 ** 20
}

interface FanoutResult {
  watchers: number
  writes: number
  delivered: number
  cpuUsPerDeliveredEvent: number
  userMs: number
  systemMs: number
  deliveryMs: { p50: number; p99: number; max: number }
  lastWatcherMs: { median: number; max: number }
}

/** Idle watchers on a service of their own, then writes (bench/watch-fanout.ts, on the client core). */
async function watchFanout(databaseUrl: string): Promise<FanoutResult> {
  log(`watch fan-out: ${plan.watchers} watchers, ${plan.watchWrites} writes`)
  const port = freePort()
  const service = await startPinned({
    command: [process.execPath, ...bunFlags, join(ROOT, 'src/main.ts')],
    cwd: work,
    env: {
      SERVE_PORT: String(port),
      DATABASE_URL: databaseUrl,
      SEED: 'false',
      LOG_LEVEL: 'info',
      // Heart-beats would be CPU of their own in the measured window.
      WATCH_HEARTBEAT_MS: '600000',
    },
    port,
    readyPaths: ['/readyz'],
    logFile: join(work, 'service-watch.log'),
  })
  try {
    const client = Bun.spawn(
      [
        'taskset',
        '-c',
        String(CLIENT_CORE),
        process.execPath,
        join(import.meta.dir, 'watch-fanout.ts'),
        service.url,
        String(service.process.pid),
        String(plan.watchers),
        String(plan.watchWrites),
      ],
      { stdout: 'pipe', stderr: 'inherit' },
    )
    const output = await new Response(client.stdout).text()
    if ((await client.exited) !== 0) throw new Error('bench/watch-fanout.ts failed')
    return JSON.parse(output) as FanoutResult
  } finally {
    await service.stop()
  }
}

/** Replicas on one PostgreSQL: the run's own, or one started for this scenario on a SQLite run. */
async function acrossReplicas(running: Postgres | undefined) {
  const own = running ? undefined : await startPostgres()
  try {
    const databaseUrl = await ((running ?? own) as Postgres).createDatabase('bench_replicas')
    log(`watch fan-out across ${plan.replicaFanout.replicas} replicas, ${plan.replicaFanout.watchers} watchers`)
    return await replicaFanout(plan.replicaFanout, { databaseUrl, workDir: work, log })
  } finally {
    await own?.stop()
  }
}

/** A database with `residentConfigs` configs: RSS after start and after reading all, and start to ready, of the bundle (as the image runs). */
async function residentAndStartup(databaseUrl: string) {
  const logFile = join(work, 'service-resident.log')
  const seeding = await startService(databaseUrl, logFile)
  cleanups.push(() => seeding.stop())
  log(`seeding ${plan.residentConfigs} configs for the resident-memory and start-up measurements`)
  await seed(seeding.url, 0, plan.residentConfigs, datasetName)
  await seeding.stop()

  const readyRunsMs: number[] = []
  const rssAfterStart: number[] = []
  let rssAfterReadingAll = Number.NaN
  let rssSettled = Number.NaN
  let readyPath = ''
  for (let i = 0; i < plan.readyRuns; i++) {
    const service = await startService(databaseUrl, logFile, 'bundle')
    cleanups.push(() => service.stop())
    readyRunsMs.push(service.readyMs)
    readyPath = service.readyPath
    await Bun.sleep(200)
    rssAfterStart.push(rssMiB(service.process.pid))
    if (i === plan.readyRuns - 1) {
      let count = 0
      let next: string | null = '/configs?limit=10000'
      while (next) {
        const response: Response = await fetch(service.url + next)
        count += ((await response.json()) as unknown[]).length
        next = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1] ?? null
      }
      if (count !== plan.residentConfigs) throw new Error(`read ${count} configs, expected ${plan.residentConfigs}`)
      await fetch(`${service.url}${SEARCH_PATH}`).then((r) => r.arrayBuffer())
      Bun.gc?.(true)
      await Bun.sleep(200)
      rssAfterReadingAll = rssMiB(service.process.pid)
      // What stays resident once the pages read are garbage: the lowest RSS over an idle while.
      rssSettled = rssAfterReadingAll
      for (let waited = 0; waited < plan.settleMs; waited += 500) {
        await Bun.sleep(500)
        rssSettled = Math.min(rssSettled, rssMiB(service.process.pid))
      }
    }
    await service.stop()
  }
  return {
    configs: plan.residentConfigs,
    readyPath,
    readyMs: median(readyRunsMs),
    readyRunsMs,
    rssAfterStartMiB: median(rssAfterStart),
    rssAfterReadingAllMiB: rssAfterReadingAll,
    rssSettledMiB: rssSettled,
  }
}

function evaluate(
  results: ScenarioResult[],
  resident: Awaited<ReturnType<typeof residentAndStartup>>,
  startup: StartupResult & { configs: number },
  grown: StartupResult & { sqliteFileMiB?: number },
  fanout: FanoutResult | undefined,
): Target[] {
  const at = (id: string, connections: number) =>
    results.find((r) => r.scenario === id && r.connections === connections)
  const ratio = (name: string, id: string, goal: number): Target => {
    const result = at(id, 32)
    return {
      name,
      goal: `>= ${num(goal, 2)}x`,
      measured: result ? `${num(result.medianRatio, 2)}x` : 'not run',
      met: result ? result.medianRatio >= goal : null,
    }
  }
  const search = at('search', 32)
  const search1 = at('search', 1)
  const scaled = resident.configs === 100_000 ? '' : ` (${num(resident.configs)} configs in this run)`
  return [
    ratio('GET one config vs Bun.serve ceiling (32 conns)', 'get-one', 0.7),
    ratio('GET list of 100 vs Bun.serve ceiling (32 conns)', 'list-100', 0.5),
    {
      name: `search over ${num(plan.configs)}: p99 (32 conns)`,
      goal: '<= 5 ms',
      measured: search
        ? `${num(search.latencyMs.p99, 2)} ms (1 conn: ${num(search1?.latencyMs.p99 ?? Number.NaN, 2)} ms)`
        : 'not run',
      met: search ? search.latencyMs.p99 <= 5 : null,
    },
    ratio('durable POST vs etcd put (32 conns)', 'post', 2),
    ratio('durable PUT If-Match vs etcd put (32 conns)', 'put-if-match', 2),
    {
      name: `watch: service CPU per delivered event (${num(fanout?.watchers ?? plan.watchers)} watchers)`,
      goal: '<= 5 us',
      measured: fanout ? `${num(fanout.cpuUsPerDeliveredEvent, 2)} us` : 'not run',
      met: fanout ? fanout.cpuUsPerDeliveredEvent <= 5 : null,
    },
    {
      name: `resident memory, 100,000 configs${scaled}`,
      goal: '< 300 MB',
      measured: `${num(resident.rssAfterReadingAllMiB, 1)} MiB right after reading (idle: ${num(resident.rssSettledMiB, 1)} MiB)`,
      met: resident.rssAfterReadingAllMiB * 1.048576 < 300,
    },
    {
      name: `start to ready, ${num(startup.configs)} configs`,
      goal: '<= 150 ms',
      measured:
        `${num(startup.readyMs, 1)} ms, bundle (sources ${num(startup.sources.readyMs, 1)} ms; ` +
        `as the scenarios left the database${grown.sqliteFileMiB === undefined ? '' : `, ${num(grown.sqliteFileMiB, 1)} MiB`}: ` +
        `${num(grown.readyMs, 1)} ms; ${num(resident.configs)} configs: ${num(resident.readyMs, 1)} ms)`,
      met: startup.readyMs <= 150,
    },
  ]
}

async function toolVersions() {
  const out = async (command: string[]) => {
    const child = Bun.spawn(command, { stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
    await child.exited
    return `${stdout}${stderr}`.trim().split('\n')[0] ?? ''
  }
  const { Database } = await import('bun:sqlite')
  const sqlite = new Database(':memory:')
  const sqliteVersion = (sqlite.query('SELECT sqlite_version() AS v').get() as { v: string }).v
  sqlite.close()
  const pkg = (name: string) =>
    (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
  return {
    bun: Bun.version,
    elysia: pkg('elysia'),
    pino: pkg('pino'),
    promClient: pkg('prom-client'),
    sqlite: sqliteVersion,
    wrk: await out(['wrk', '-v']),
    etcd: await out(['etcd', '--version']),
    pgTestFsync: await out(['/usr/lib/postgresql/15/bin/pg_test_fsync', '--version']),
    git:
      (await out(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'])) +
      ((await out(['git', '-C', ROOT, 'status', '--porcelain', 'src'])) ? ' (src modified)' : ''),
  }
}

function commandLine(): string {
  const vars = [
    'BENCH_STORE',
    'BENCH_SMOKE',
    'BENCH_ROUNDS',
    'BENCH_SECONDS',
    'BENCH_ONLY',
    'BENCH_BUN_FLAGS',
    'BENCH_FANOUT_RATE',
    'BENCH_FANOUT_BURST',
  ]
    .filter((name) => env[name])
    .map((name) => `${name}=${env[name]}`)
  return [smoke ? 'make bench-smoke' : 'make bench', ...vars].join(' ')
}
