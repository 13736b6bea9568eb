/**
 * Starts a process in container-sandbox.sh (PID 1 of its own PID namespace, read-only root,
 * numeric non-root user, only tmpfs paths writable) through the shared server helper, and
 * signals it the way a kubelet does: to the sandbox's PID 1, not to the wrapper.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type RunningServer, startServer } from '../support/server.ts'

const SCRIPT = join(import.meta.dir, 'container-sandbox.sh')

export const canSandbox = process.getuid?.() === 0 && Bun.which('unshare') !== null && Bun.which('setpriv') !== null

export interface SandboxOptions {
  rootfs: string
  /** numeric uid:gid */
  user: string
  workdir: string
  env: Record<string, string>
  /** Paths mounted as empty, writable tmpfs (what emptyDir volumes are in Kubernetes). */
  tmpfs: string[]
  argv: string[]
}

export function sandboxCommand(options: SandboxOptions): string[] {
  return [
    'bash',
    SCRIPT,
    '--rootfs',
    options.rootfs,
    '--user',
    options.user,
    '--workdir',
    options.workdir,
    '--bun',
    process.execPath,
    ...options.tmpfs.flatMap((path) => ['--tmpfs', path]),
    ...Object.entries(options.env).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
    '--',
    ...options.argv,
  ]
}

export interface SandboxedServer extends RunningServer {
  /** The host's pid of the sandbox's PID 1 (the service itself). */
  pid1: number
  /** SIGTERM to PID 1, as a kubelet sends it; resolves with the exit code and how long it took. */
  terminate(timeoutMs: number): Promise<{ code: number; ms: number }>
  /** Ends everything, whatever state it is in. */
  kill(): Promise<void>
}

export async function startSandboxed(options: SandboxOptions): Promise<SandboxedServer> {
  const server = await startServer({
    command: sandboxCommand(options),
    // Only reported back; the sandbox passes on nothing but options.env.
    databaseUrl: options.env.DATABASE_URL ?? '',
    startTimeoutMs: 20_000,
  })
  const wrapper = server.process.pid
  const pid1 = Number(readFileSync(`/proc/${wrapper}/task/${wrapper}/children`, 'utf8').trim().split(/\s+/)[0])
  const kill = async () => {
    // unshare --kill-child takes PID 1 down with it.
    if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL')
    await server.process.exited
  }
  return {
    ...server,
    pid1,
    kill,
    async terminate(timeoutMs: number) {
      const started = performance.now()
      process.kill(pid1, 'SIGTERM')
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs)
      })
      const outcome = await Promise.race([server.process.exited, timeout])
      clearTimeout(timer)
      if (outcome === 'timeout') {
        await kill()
        throw new Error(`PID 1 did not exit within ${timeoutMs} ms of SIGTERM`)
      }
      return { code: outcome, ms: performance.now() - started }
    },
  }
}

/** `Uid:` and `NSpid:` of a process, from /proc. */
export function processIdentity(pid: number): { uid: number; nsPid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1])
  const nsPid = Number(/^NSpid:.*\s(\d+)\s*$/m.exec(status)?.[1])
  return { uid, nsPid }
}

/** Resident memory of a process, in bytes. */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) * 1024
}
