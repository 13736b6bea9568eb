/**
 * `configctl agent` processes for rollout tests: the built executable (dist/configctl, as in a
 * pod) keeping one config in a file or a prefix in a folder, reporting to the service under a
 * consumer name. What a test reads back: the files on disk and the agent's stderr lines.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { BINARY } from '../cli/support.ts'
import { eachLine, tempDir } from '../support/server.ts'

export interface RolloutAgent {
  consumer: string
  /** The configs this agent keeps. */
  dcnames: string[]
  /** Where the agent writes `dcname`. */
  pathOf(dcname: string): string
  /** The config as the agent last wrote it (undefined: no file yet). */
  read(dcname: string): Record<string, unknown> | undefined
  /** Every stderr line so far (for failure messages). */
  lines: string[]
  process: Subprocess<'ignore', 'ignore', 'pipe'>
}

export interface AgentSpec {
  consumer: string
  url: string
  /** One config (`--file`), or every config of `prefix` in a folder (`--dir`). */
  dcname?: string
  prefix?: string
  /** The configs of the prefix (the agent finds them itself; the test needs them to check). */
  dcnames?: string[]
  check?: string
}

export function startAgent(spec: AgentSpec): RolloutAgent {
  const dir = tempDir('rollout-agent-')
  const file = join(dir, 'config.json')
  const where =
    spec.dcname !== undefined ? ['--dcname', spec.dcname, '--file', file] : ['--prefix', `${spec.prefix}`, '--dir', dir]
  const check = spec.check !== undefined ? ['--check', spec.check] : []
  const child = Bun.spawn([BINARY, 'agent', '--consumer', spec.consumer, '--heartbeat', '10', ...where, ...check], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CONFIGCTL_URL: spec.url },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  })
  const lines: string[] = []
  void eachLine(child.stderr, (line) => lines.push(line))
  const pathOf = (dcname: string) => (spec.dcname !== undefined ? file : join(dir, `${dcname}.json`))
  return {
    consumer: spec.consumer,
    dcnames: spec.dcname !== undefined ? [spec.dcname] : (spec.dcnames ?? []),
    pathOf,
    read: (dcname) => {
      const path = pathOf(dcname)
      return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined
    },
    lines,
    process: child,
  }
}

/** Stops the agents and waits for them to be gone. */
export async function stopAgents(agents: RolloutAgent[]): Promise<void> {
  for (const agent of agents) agent.process.kill('SIGTERM')
  await Promise.all(agents.map((agent) => agent.process.exited))
}
