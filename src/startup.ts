/**
 * What both entry points do around start-up: a failure the operator can fix (a bad setting, a
 * database that cannot be opened or reached, a port in use) ends the process with one line on
 * stderr naming the setting, and no stack trace. Anything else is a bug and keeps its stack.
 */
import process from 'node:process'
import { type Settings, SettingsError } from './settings.ts'

/** A start-up step failed for a reason outside the code; `setting` is the variable to look at. */
export class StartupError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`cannot start: ${setting}: ${problem}`)
    this.name = 'StartupError'
  }
}

/** Exit codes: 2 for a value that is wrong in itself, 1 for one that did not work out here. */
const EXIT_INVALID_SETTING = 2
const EXIT_STARTUP_FAILED = 1

/** Runs one start-up step; a StartupError or SettingsError ends the process with its one line. */
export async function startupStep<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    if (error instanceof SettingsError) exitWithLine(error.message, EXIT_INVALID_SETTING)
    if (error instanceof StartupError) exitWithLine(error.message, EXIT_STARTUP_FAILED)
    throw error
  }
}

/**
 * Starts one of the runtime's listeners (Bun.serve, Deno.serve); both throw at once when they
 * cannot. `setting` names the variable that chose the port (SERVE_PORT, METRICS_PORT).
 */
export function listenOrExit<T>(setting: string, port: number, listen: () => T): Promise<T> {
  return startupStep(() => {
    try {
      return listen()
    } catch (error) {
      throw listenFailure(error, `${setting}=${port}`)
    }
  })
}

/** The fields of the `listening` line, the same on every runtime. */
export function listeningFields(settings: Settings, port: number, store: string) {
  const writesNeedToken = [settings.apiToken, settings.tokensFile, settings.oidc.issuerUrl].some((v) => v !== undefined)
  return { port, store, writesNeedToken }
}

function listenFailure(error: unknown, setting: string): unknown {
  // Bun and Deno both set Node's error codes on the errors of their listeners.
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'EADDRINUSE') return new StartupError(setting, 'the port is already in use')
  if (code === 'EACCES') return new StartupError(setting, 'permission denied (ports below 1024 need privileges)')
  if (code === 'EADDRNOTAVAIL') return new StartupError(setting, 'no such address on this host')
  return error
}

function exitWithLine(line: string, code: number): never {
  console.error(line)
  process.exit(code)
}
