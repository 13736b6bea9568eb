/**
 * Start to ready beside a bare runtime, in one run: starts of a bare Bun.serve (bench/ceiling.ts
 * with one answer, `/readyz`), of the bundle the image runs and of the sources, in turn, on one
 * database: by default a SQLite file of 10,000 configs and the write pool, seeded as bench/run.ts
 * seeds its own; or the database URL given (e.g. the `bench_load.db` a `BENCH_KEEP=1` run kept).
 * Per start: the wall time from spawn to the first `/readyz` 200, and the process's CPU time by
 * then (/proc), which moves less with the machine's load than the wall time does.
 *
 *   bun bench/startup.ts [database url]
 * STARTUP_RUNS starts of each (default 5); STARTUP_PROFILE=1 adds one start of the sources and
 * one of the bundle with `--cpu-prof` (and its summary, `--cpu-prof-md`), written to the work dir,
 * which is then kept.
 * Prints one JSON object; servers on core 0 as in bench/run.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { datasetName, poolName, seed, WRITE_POOL } from './dataset.ts'
import { cpuMs, freePort, startPinned } from './processes.ts'
import { median } from './report.ts'

const ROOT = resolve(import.meta.dir, '..')
const runs = Number(process.env.STARTUP_RUNS ?? 5)
const profile = process.env.STARTUP_PROFILE === '1'
const work = mkdtempSync(join(tmpdir(), 'config-service-startup-'))
const log = (message: string) => console.error(`[startup ${new Date().toISOString().slice(11, 19)}] ${message}`)

/** As bench/run.ts starts them: the bundle without a transpiler cache (the image's root is read-only). */
const SYSTEMS = {
  bare: { command: [join(import.meta.dir, 'ceiling.ts'), '<port>', join(work, 'captured.json')], env: {} },
  bundle: { command: [join(ROOT, 'dist/service/main.js')], env: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' } },
  sources: { command: [join(ROOT, 'src/main.ts')], env: {} },
} as const
type System = keyof typeof SYSTEMS

async function start(system: System, databaseUrl: string, flags: string[] = []) {
  const port = freePort()
  const { command, env } = SYSTEMS[system]
  const started = await startPinned({
    command: [process.execPath, ...flags, ...command.map((part) => (part === '<port>' ? String(port) : part))],
    cwd: work,
    env: { SERVE_PORT: String(port), DATABASE_URL: databaseUrl, SEED: 'false', LOG_LEVEL: 'info', ...env },
    port,
    readyPaths: ['/readyz'],
    logFile: join(work, `${system}.log`),
  })
  const cpu = cpuMs(started.process.pid)
  await started.stop()
  return { readyMs: Math.round(started.readyMs * 10) / 10, cpuMs: cpu }
}

try {
  const bundling = Bun.spawnSync([process.execPath, 'run', 'bundle'], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (bundling.exitCode !== 0) throw new Error(`bun run bundle failed: ${bundling.stderr.toString()}`)
  writeFileSync(join(work, 'captured.json'), JSON.stringify({ '/readyz': { status: 200, headers: {}, body: 'ok' } }))
  let databaseUrl = process.argv[2]
  if (!databaseUrl) {
    databaseUrl = `sqlite:${join(work, 'startup.db')}`
    const port = freePort()
    const service = await startPinned({
      command: [process.execPath, SYSTEMS.sources.command[0]],
      cwd: work,
      env: { SERVE_PORT: String(port), DATABASE_URL: databaseUrl, SEED: 'false', LOG_LEVEL: 'warn' },
      port,
      readyPaths: ['/readyz'],
      logFile: join(work, 'seeding.log'),
    })
    log('seeding 10,000 configs and the write pool')
    await seed(service.url, 0, 10_000, datasetName)
    await seed(service.url, 0, WRITE_POOL, poolName)
    await service.stop()
  }
  const loadBefore = loadavg()
  const measured: Record<System, { readyMs: number; cpuMs: number }[]> = { bare: [], bundle: [], sources: [] }
  for (let i = 0; i < runs; i++) {
    for (const system of Object.keys(SYSTEMS) as System[]) measured[system].push(await start(system, databaseUrl))
  }
  if (profile) {
    for (const system of ['sources', 'bundle'] as const) {
      await start(system, databaseUrl, [
        '--cpu-prof',
        '--cpu-prof-md',
        `--cpu-prof-dir=${join(work, `profile-${system}`)}`,
      ])
    }
    log(`profiles kept in ${work}`)
  }
  const summary = Object.fromEntries(
    Object.entries(measured).map(([system, starts]) => [
      system,
      {
        readyMs: median(starts.map((s) => s.readyMs)),
        cpuMs: median(starts.map((s) => s.cpuMs)),
        starts,
      },
    ]),
  )
  console.log(JSON.stringify({ databaseUrl, runs, loadBefore, loadAfter: loadavg(), work, ...summary }))
} finally {
  if (!profile) rmSync(work, { recursive: true, force: true })
}
