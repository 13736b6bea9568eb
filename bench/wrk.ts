/**
 * Runs wrk pinned to the load generator's core and reads the line that lua/report.lua prints.
 * A run whose requests failed (socket errors, unexpected statuses) is an error, not a number.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const LOAD_CORE = 1

export interface WrkRun {
  /** Requests per second over the run. */
  rps: number
  requests: number
  durationSec: number
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number }
  errors: { connect: number; read: number; write: number; status: number; timeout: number }
  /** Status counts, for scripts that count them (writes, mixes). */
  statuses: Record<string, number>
}

export interface WrkOptions {
  url: string
  connections: number
  durationSec: number
  /** A script from bench/lua (without report.lua, which is appended), or none for a plain GET. */
  script?: string
  args?: string[]
  /** Statuses a scripted run may answer; anything else fails the run. */
  okStatuses?: number[]
}

const LUA_DIR = join(import.meta.dir, 'lua')
const scriptDir = mkdtempSync(join(tmpdir(), 'bench-wrk-'))

function scriptFile(name: string | undefined): string {
  const file = join(scriptDir, `${name ?? 'get'}.lua`)
  const own = name ? readFileSync(join(LUA_DIR, `${name}.lua`), 'utf8') : ''
  writeFileSync(file, `${own}\n${readFileSync(join(LUA_DIR, 'report.lua'), 'utf8')}`)
  return file
}

export async function wrk(options: WrkOptions): Promise<WrkRun> {
  const command = [
    'taskset',
    '-c',
    String(LOAD_CORE),
    'wrk',
    '-t1',
    `-c${options.connections}`,
    `-d${options.durationSec}s`,
    '--timeout',
    '10s',
    '-s',
    scriptFile(options.script),
    options.url,
    ...(options.args?.length ? ['--', ...options.args] : []),
  ]
  const child = Bun.spawn(command, { stdout: 'pipe', stderr: 'pipe' })
  const killer = setTimeout(() => child.kill('SIGKILL'), (options.durationSec + 30) * 1000)
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  clearTimeout(killer)
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '))
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}) on ${options.url}: ${stderr.trim() || stdout}`)
  const raw = JSON.parse(line.slice('BENCH_RESULT '.length)) as {
    requests: number
    duration_us: number
    errors: WrkRun['errors']
    latency_us: Record<string, number>
    statuses: Record<string, number>
  }
  const us = (name: string) => (raw.latency_us[name] ?? 0) / 1000
  const run: WrkRun = {
    rps: raw.requests / (raw.duration_us / 1e6),
    requests: raw.requests,
    durationSec: raw.duration_us / 1e6,
    latencyMs: { p50: us('p50'), p90: us('p90'), p99: us('p99'), p999: us('p999'), max: us('max'), mean: us('mean') },
    errors: raw.errors,
    statuses: raw.statuses,
  }
  checkRun(run, options)
  return run
}

function checkRun(run: WrkRun, options: WrkOptions): void {
  const { connect, read, write, status, timeout } = run.errors
  const unexpected = Object.entries(run.statuses).filter(
    ([code]) => !(options.okStatuses ?? [200]).includes(Number(code)),
  )
  // wrk cuts the connections still open when time is up; a read error on those is not a fault.
  const socketErrors = connect + write + timeout + Math.max(0, read - options.connections)
  if (run.requests === 0 || socketErrors > 0 || status > 0 || unexpected.length > 0) {
    throw new Error(
      `load on ${options.url} failed: ${run.requests} requests, errors ${JSON.stringify(run.errors)}, ` +
        `unexpected statuses ${JSON.stringify(Object.fromEntries(unexpected))}`,
    )
  }
}
