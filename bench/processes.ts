/** Servers under test, each pinned to the server core, started and stopped by the harness. */
import { openSync, readFileSync } from 'node:fs'
import type { Subprocess } from 'bun'

export const SERVER_CORE = 0

export interface Started {
  process: Subprocess
  url: string
  /** Milliseconds from spawn to the first answer of the ready check. */
  readyMs: number
  stop(): Promise<void>
}

export interface StartOptions {
  command: string[]
  env?: Record<string, string>
  cwd?: string
  port: number
  /** Paths to poll, in order of preference; the first that answers 200 is the ready check. */
  readyPaths: string[]
  /** stdout and stderr go to this file (access logs are written, as in production). */
  logFile: string
  timeoutMs?: number
}

/** A port that was free a moment ago (bound and released). */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = probe.port
  probe.stop(true)
  if (port === undefined) throw new Error('no free port')
  return port
}

export async function startPinned(options: StartOptions): Promise<Started & { readyPath: string }> {
  const log = openSync(options.logFile, 'a')
  const started = performance.now()
  const child = Bun.spawn(['taskset', '-c', String(SERVER_CORE), ...options.command], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdin: 'ignore',
    stdout: log,
    stderr: log,
  })
  const url = `http://127.0.0.1:${options.port}`
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await child.exited
    clearTimeout(timer)
  }
  const deadline = started + (options.timeoutMs ?? 60_000)
  while (performance.now() < deadline) {
    if (child.exitCode !== null) break
    for (const path of options.readyPaths) {
      const status = await fetch(url + path)
        .then(async (r) => {
          await r.arrayBuffer()
          return r.status
        })
        .catch(() => 0)
      if (status === 200) return { process: child, url, readyMs: performance.now() - started, readyPath: path, stop }
      if (status !== 404 && status !== 0) break // it answers but is not ready yet: keep asking the same path
    }
    await Bun.sleep(2)
  }
  await stop()
  const tail = readFileSync(options.logFile, 'utf8').split('\n').slice(-20).join('\n')
  throw new Error(`${options.command.join(' ')} did not become ready at ${url}; last output:\n${tail}`)
}

/** Resident set size of a process, in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN)
  return kb / 1024
}

/** USER_HZ: /proc reports CPU time in 10 ms ticks. */
const TICK_MS = 1000 / 100

/** CPU time (user + system) of a process so far, in ms, to the 10 ms tick. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which may hold spaces: its closing parenthesis ends it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}
