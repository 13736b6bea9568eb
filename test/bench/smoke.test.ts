/**
 * CI does not judge the numbers, only that the benchmark runs: a smoke run of bench/run.ts must
 * finish, run every scenario against the service and its baseline, and write a well-formed result.
 */
import { beforeAll, expect, it } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/server.ts'

const RESULTS = join(ROOT, 'bench/results')
const SCENARIOS = ['get-one', 'list-100', 'search', 'post', 'put-if-match', 'mix-90-10']

interface Run {
  rps: number
  requests: number
  latencyMs: { p50: number; p99: number }
}
interface Result {
  smoke: boolean
  store: string
  machine: { cores: number; cpu: string }
  versions: Record<string, string>
  baselines: { fsyncOpsPerSec: Record<string, number> }
  scenarios: {
    scenario: string
    connections: number
    baseline: string
    runs: Record<string, Run[]>
    ratios: number[]
    medianRatio: number
  }[]
  resident: {
    configs: number
    readyMs: number
    rssAfterStartMiB: number
    rssAfterReadingAllMiB: number
    rssSettledMiB: number
  }
  startup: { configs: number; readyMs: number; sources: { readyMs: number } }
  startupAfterScenarios: { readyMs: number; sources: { readyMs: number }; sqliteFileMiB?: number }
  watchFanout: { watchers: number; delivered: number; cpuUsPerDeliveredEvent: number; deliveryMs: { p99: number } }
  replicaFanout: {
    plan: { replicas: number; watchers: number }
    rounds: { system: string; events: number; delivered: number; cpuUsPerEvent: number[] }[]
  }
  targets: { name: string; measured: string; met: boolean | null }[]
}

let result: Result
let exitCode: number
let output: string

beforeAll(async () => {
  // A fresh machine lacks wrk, etcd and pg_test_fsync: the bench's own script installs them.
  const install = Bun.spawn(['bash', join(ROOT, 'bench/install-tools.sh')], { stdout: 'inherit', stderr: 'inherit' })
  expect(await install.exited).toBe(0)

  const before = new Set(readdirSync(RESULTS))
  const started = Date.now()
  const child = Bun.spawn([process.execPath, join(ROOT, 'bench/run.ts')], {
    cwd: ROOT,
    env: { ...process.env, BENCH_SMOKE: '1', BENCH_STORE: 'sqlite' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  // Only a guard against a hung run, never a measure: the smoke run took 87 s at load 50 once the
  // replica fan-out joined it, so the guard sits just under this hook's own 600 s.
  const timer = setTimeout(() => child.kill('SIGKILL'), 540_000)
  const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
  exitCode = await child.exited
  clearTimeout(timer)
  output = `${stdout}\n${stderr}`
  console.error(`bench smoke run took ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const written = readdirSync(RESULTS).filter((name) => name.endsWith('-smoke.json') && !before.has(name))
  if (exitCode === 0 && written.length === 1) {
    result = JSON.parse(readFileSync(join(RESULTS, written[0] as string), 'utf8')) as Result
  }
}, 600_000)

it('when the smoke benchmark runs, then it exits 0 and writes one result file', () => {
  expect(output).not.toContain('error:')
  expect(exitCode).toBe(0)
  expect(result?.smoke).toBe(true)
})

it('when the smoke benchmark runs, then every scenario ran at 1 and 32 connections against its baseline', () => {
  const ran = result.scenarios.map((s) => `${s.scenario}@${s.connections}`).sort()
  expect(ran).toEqual(SCENARIOS.flatMap((s) => [`${s}@1`, `${s}@32`]).sort())
  for (const scenario of result.scenarios) {
    for (const system of ['service', scenario.baseline]) {
      const runs = scenario.runs[system] ?? []
      expect(runs.length).toBeGreaterThan(0)
      for (const run of runs) {
        expect(run.requests).toBeGreaterThan(0)
        expect(run.rps).toBeGreaterThan(0)
        expect(run.latencyMs.p99).toBeGreaterThanOrEqual(run.latencyMs.p50)
      }
    }
    expect(scenario.ratios.length).toBe(scenario.runs.service?.length ?? -1)
    expect(Number.isFinite(scenario.medianRatio) && scenario.medianRatio > 0).toBe(true)
  }
})

it('when the smoke benchmark runs, then every event reached every watcher across the replicas, service and baseline', () => {
  const { plan, rounds } = result.replicaFanout
  expect(plan.replicas).toBeGreaterThan(1)
  expect(rounds.map((r) => r.system).sort()).toEqual(['baseline', 'service'])
  for (const round of rounds) {
    expect(round.events).toBeGreaterThan(0)
    expect(round.delivered).toBe(round.events * plan.watchers)
    expect(round.cpuUsPerEvent.length).toBe(plan.replicas)
  }
})

it('when the smoke benchmark runs, then it records the machine, versions, baselines, memory, start-up, watch fan-out and targets', () => {
  expect(result.machine.cores).toBeGreaterThan(0)
  for (const tool of ['bun', 'wrk', 'etcd', 'sqlite', 'pgTestFsync']) expect(result.versions[tool]).toBeTruthy()
  expect(Object.values(result.baselines.fsyncOpsPerSec).some((ops) => ops > 0)).toBe(true)
  expect(result.resident.configs).toBeGreaterThan(0)
  expect(result.resident.readyMs).toBeGreaterThan(0)
  expect(result.resident.rssAfterReadingAllMiB).toBeGreaterThan(0)
  expect(result.resident.rssSettledMiB).toBeGreaterThan(0)
  expect(result.resident.rssSettledMiB).toBeLessThanOrEqual(result.resident.rssAfterReadingAllMiB)
  expect(result.startup.readyMs).toBeGreaterThan(0)
  expect(result.startup.sources.readyMs).toBeGreaterThan(0)
  // Once on the seeded database the target names, once as the scenarios left it (larger).
  expect(result.startup.configs).toBeGreaterThan(0)
  expect(result.startupAfterScenarios.readyMs).toBeGreaterThan(0)
  expect(result.startupAfterScenarios.sources.readyMs).toBeGreaterThan(0)
  if (result.store === 'sqlite') expect(result.startupAfterScenarios.sqliteFileMiB).toBeGreaterThan(0)
  // Every watcher got every write's event.
  expect(result.watchFanout.delivered).toBe(result.watchFanout.watchers * 5)
  expect(result.watchFanout.cpuUsPerDeliveredEvent).toBeGreaterThan(0)
  expect(result.targets.length).toBe(10)
  for (const target of result.targets) expect(target.measured).not.toBe('not run')
})
