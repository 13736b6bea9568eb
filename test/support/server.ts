/**
 * Starts the real service as a child process (Bun or Deno) on a free port and captures its
 * stdout as JSON lines. Used by every test that needs a process: HTTP suite, durability,
 * logs, shutdown, replicas.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'

export const ROOT = resolve(import.meta.dir, '../..')
/** `bundle` is Bun running what the image runs: package.json's bundle script's output. */
export type Runtime = 'bun' | 'deno' | 'bundle'

export interface ServerOptions {
  runtime?: Runtime
  env?: Record<string, string>
  /** Defaults to a fresh SQLite file in a new temp dir. */
  databaseUrl?: string
  /**
   * How long a start may take before the test reports it, with what the process printed. Only a
   * report, never a measure: the first Deno start of a fresh clone transpiles every source, which
   * took over 30 s at load 30, so the default stays just under the suites' 60 s hook timeout.
   */
  startTimeoutMs?: number
  /** Runs this instead of the runtime's entry point (the image sandbox does); it must log `listening` the same way. */
  command?: string[]
}

export interface RunningServer {
  url: string
  port: number
  process: Subprocess<'ignore', 'pipe', 'pipe'>
  /** Every stdout line so far, parsed as JSON when it is JSON. */
  lines: unknown[]
  rawStdout: string[]
  stderr: string[]
  databaseUrl: string
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>
}

const made: string[] = []

/** A new folder under the system's temp folder, removed once the run ends (removeTempDirs). */
export function tempDir(prefix = 'config-service-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

/**
 * Removes every folder tempDir made in this run (test/support/test-run.ts, once the last file
 * ran): a run makes hundreds, each with a database, and they filled /tmp by gigabytes.
 */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
}

/**
 * The deno executable itself. node_modules/.bin/deno is a Node.js wrapper that runs it with
 * spawnSync: a signal sent to the wrapper kills the wrapper and leaves Deno running, orphaned.
 */
export function denoBinary(): string {
  const candidates = ['node_modules/deno/deno', `node_modules/@deno/${process.platform}-${process.arch}-glibc/deno`]
  const found = candidates.map((path) => join(ROOT, path)).find((path) => existsSync(path))
  return found ?? join(ROOT, 'node_modules/.bin/deno')
}

/**
 * The Deno command line is package.json's `start:deno` (which `make run-deno` runs too), with
 * the deno executable itself in place of the `deno` on PATH.
 */
function denoCommand(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const [deno, ...args] = String(scripts['start:deno']).trim().split(/\s+/)
  if (deno !== 'deno') throw new Error(`package.json start:deno should start with deno, not ${deno}`)
  return [denoBinary(), ...args.map((arg) => (arg.endsWith('.ts') ? join(ROOT, arg) : arg))]
}

let bundled = false

/** `bun run bundle` (what `make bundle` and the image's build stage run), once per test process. */
export function bundleEntry(): string {
  if (!bundled) {
    const build = Bun.spawnSync([process.execPath, 'run', 'bundle'], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
    if (build.exitCode !== 0) throw new Error(`bun run bundle failed: ${build.stderr.toString()}`)
    bundled = true
  }
  return join(ROOT, 'dist/service/main.js')
}

export function runtimeCommand(runtime: Runtime): string[] {
  if (runtime === 'deno') return denoCommand()
  if (runtime === 'bundle') return [process.execPath, bundleEntry()]
  return [process.execPath, join(ROOT, 'src/main.ts')]
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const runtime = options.runtime ?? ((process.env.TEST_RUNTIME as Runtime | undefined) || 'bun')
  const databaseUrl = options.databaseUrl ?? `sqlite:${join(tempDir(), 'configs.db')}`
  const child = Bun.spawn(options.command ?? runtimeCommand(runtime), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      SERVE_PORT: '0',
      DATABASE_URL: databaseUrl,
      ...options.env,
    },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const lines: unknown[] = []
  const rawStdout: string[] = []
  const stderr: string[] = []
  let onLine: (() => void) | undefined
  void eachLine(child.stdout, (line) => {
    rawStdout.push(line)
    try {
      lines.push(JSON.parse(line))
    } catch {
      lines.push(line)
    }
    onLine?.()
  })
  void eachLine(child.stderr, (line) => stderr.push(line))

  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`server did not start in time; stdout: ${rawStdout.join('\n')} stderr: ${stderr.join('\n')}`)),
      options.startTimeoutMs ?? 55_000,
    )
    onLine = () => {
      const listening = lines.find((l) => (l as { msg?: string }).msg === 'listening') as { port: number } | undefined
      if (listening) {
        clearTimeout(timer)
        resolvePort(listening.port)
      }
    }
    void child.exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening: ${stderr.join('\n')} ${rawStdout.join('\n')}`))
    })
  })
  onLine = undefined
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    lines,
    rawStdout,
    stderr,
    databaseUrl,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return child.exited
    },
  }
}

/** Calls `onLine` with each non-blank line of a process's output as it arrives (and the last, unended one). */
export async function eachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true })
    let newline = buffer.indexOf('\n')
    while (newline !== -1) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + 1)
      if (line.trim() !== '') onLine(line)
      newline = buffer.indexOf('\n')
    }
  }
  if (buffer.trim() !== '') onLine(buffer)
}

/** How a process that should not get to serve ended: its exit code and its non-empty lines. */
export interface Exit {
  code: number
  stderr: string[]
  stdout: string[]
}

/**
 * Runs the service until it exits by itself (killed after `withinMs` if it serves instead). The
 * default is a stop for a process that never exits, not a measure: far above a start on a busy
 * machine, under the suites' 60 s test timeout.
 */
export async function runUntilExit(runtime: Runtime, env: Record<string, string>, withinMs = 45_000): Promise<Exit> {
  const child = Bun.spawn(runtimeCommand(runtime), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SERVE_PORT: '0', ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), withinMs)
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ])
  clearTimeout(killer)
  const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '')
  return { code, stderr: lines(stderr), stdout: lines(stdout) }
}
