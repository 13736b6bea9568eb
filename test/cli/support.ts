/**
 * Runs configctl as users do: the executable `make cli` builds (dist/configctl), as a process,
 * against a real service process. `buildConfigctl` runs the make target once per test run
 * (make rebuilds only when a source changed).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, tempDir } from '../support/server.ts'

export const BINARY = join(ROOT, 'dist/configctl')

let built: Promise<void> | undefined

/** `make cli`; resolves once dist/configctl is up to date. */
export function buildConfigctl(): Promise<void> {
  built ??= (async () => {
    const make = Bun.spawn(['make', '-s', 'cli'], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
    const [code, stderr] = await Promise.all([make.exited, new Response(make.stderr).text()])
    if (code !== 0) throw new Error(`make cli failed (${code}): ${stderr}`)
  })()
  return built
}

export interface Run {
  code: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  env?: Record<string, string>
  /** The command line to run instead of the binary (e.g. `bun run configctl --`). */
  command?: string[]
  cwd?: string
}

let stateHome: string | undefined

/**
 * Runs configctl to its end with a clean environment (PATH, HOME, and an XDG_STATE_HOME of this
 * test run's own, so that apply's last-applied records land in a temp dir; then `env`).
 */
export async function configctl(url: string, args: string[], options: RunOptions = {}): Promise<Run> {
  stateHome ??= tempDir('configctl-state-')
  const child = Bun.spawn([...(options.command ?? [BINARY]), ...args], {
    cwd: options.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      XDG_STATE_HOME: stateHome,
      CONFIGCTL_URL: url,
      ...options.env,
    },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ])
  return { code, stdout, stderr }
}

/** A folder of config files: name -> content (objects are written as JSON, strings as given). */
export function configFolder(files: Record<string, unknown>): string {
  const dir = join(tempDir('configctl-'), 'configs')
  mkdirSync(dir)
  writeFiles(dir, files)
  return dir
}

export function writeFiles(dir: string, files: Record<string, unknown>): void {
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  }
}

/** The service's answer to a GET, as text, with its status and headers. */
export async function api(url: string, path: string, init: RequestInit = {}) {
  const response = await fetch(`${url}${path}`, init)
  return { status: response.status, headers: response.headers, text: await response.text() }
}

/** Lines of a child's stdout as they arrive, each awaited with a bound. */
export function lineReader(stream: ReadableStream<BufferSource>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  return {
    async next(timeoutMs = 10_000): Promise<string> {
      const deadline = Date.now() + timeoutMs
      while (!buffer.includes('\n')) {
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`no line within ${timeoutMs} ms; so far: ${JSON.stringify(buffer)}`)
        const read = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no line in time')), left)),
        ])
        if (read.done) throw new Error(`stdout ended; so far: ${JSON.stringify(buffer)}`)
        buffer += read.value
      }
      const at = buffer.indexOf('\n')
      const line = buffer.slice(0, at)
      buffer = buffer.slice(at + 1)
      return line
    },
  }
}
