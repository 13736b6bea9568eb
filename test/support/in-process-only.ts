/**
 * Preloaded by `make test-fast`: the in-process suites must start no process (no service, no
 * PostgreSQL, no Chromium, no tool), so that the loop stays seconds long. Starting one fails
 * the test at once, naming the command, instead of slowing the loop down unnoticed.
 */
import { mock } from 'bun:test'
import * as childProcess from 'node:child_process'

const refuse = (what: string) =>
  function refused(command: unknown): never {
    const shown = Array.isArray(command) ? command.join(' ') : String((command as { cmd?: unknown })?.cmd ?? command)
    throw new Error(
      `make test-fast runs in-process suites only, and this one starts a process (${what}: ${shown}): ` +
        'take it out of FAST_TESTS in the Makefile (make test runs it)',
    )
  }

for (const name of ['spawn', 'spawnSync'] as const) Object.assign(Bun, { [name]: refuse(`Bun.${name}`) })
const refused = Object.fromEntries(
  ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'].map((name) => [
    name,
    refuse(`child_process.${name}`),
  ]),
)
const patched = { ...childProcess, ...refused }
mock.module('node:child_process', () => ({ ...patched, default: patched }))
mock.module('child_process', () => ({ ...patched, default: patched }))
