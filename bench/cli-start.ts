/**
 * What a start of configctl costs: `dist/configctl --help` (start, parse, print, exit; no
 * request), run one after the other. Wall time depends on what else the machine runs; CPU time
 * (user + system, of the process and its threads) much less, so both are given.
 * `bun bench/cli-start.ts` (builds dist/configctl first if needed; CLI_START_RUNS runs, default 20).
 * bench/README.md, "configctl start", has the result; the README's configctl section states it.
 */
import { join } from 'node:path'
import { median } from './report.ts'

const root = join(import.meta.dir, '..')
const runs = Number(process.env.CLI_START_RUNS ?? 20)
const build = Bun.spawnSync(['make', '-s', 'cli'], { cwd: root, stdout: 'ignore', stderr: 'pipe' })
if (build.exitCode !== 0) throw new Error(`make cli failed: ${build.stderr.toString()}`)

const wall: number[] = []
const cpu: number[] = []
for (let i = 0; i < runs; i++) {
  const start = performance.now()
  const run = Bun.spawnSync([join(root, 'dist/configctl'), '--help'], { stdout: 'ignore', stderr: 'ignore' })
  wall.push(performance.now() - start)
  if (run.exitCode !== 0) throw new Error(`dist/configctl --help exited ${run.exitCode}`)
  const usage = run.resourceUsage
  if (usage === undefined) throw new Error('no resource usage for the run')
  cpu.push(Number(usage.cpuTime.user + usage.cpuTime.system) / 1000)
}
const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`
const sorted = (values: number[]) => [...values].sort((a, b) => a - b)
console.log(
  `dist/configctl --help, ${runs} runs: wall median ${s(median(sorted(wall)))} (min ${s(Math.min(...wall))}, max ${s(Math.max(...wall))}); CPU (user + system) median ${s(median(sorted(cpu)))}`,
)
