/**
 * Environment -> typed settings, read and checked once at start-up.
 * A bad value throws a SettingsError whose message is one line naming the variable,
 * so the entry point can print it and exit without a stack trace.
 */

export type DatabaseTarget =
  | { kind: 'sqlite'; path: string } // path ':memory:' is an in-memory database
  | { kind: 'postgres'; url: string }

export interface Settings {
  port: number
  database: DatabaseTarget
  seed: boolean
  apiToken: string | undefined
  maxBodyBytes: number
  logLevel: LogLevel
  shutdownDelayMs: number
  /** Past events kept for watch replay (`since`); older revisions answer 410. */
  watchHistorySize: number
  /** Interval of the `: heartbeat` comment on idle watch streams. */
  watchHeartbeatMs: number
  /** Events one watcher may have waiting before it is dropped with a final ERROR event. */
  watchBufferEvents: number
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Every variable this module reads; the Kubernetes manifests are checked against it. */
export const SETTING_NAMES = [
  'SERVE_PORT',
  'DATABASE_URL',
  'SEED',
  'API_TOKEN',
  'MAX_BODY_BYTES',
  'LOG_LEVEL',
  'SHUTDOWN_DELAY_MS',
  'WATCH_HISTORY_SIZE',
  'WATCH_HEARTBEAT_MS',
  'WATCH_BUFFER_EVENTS',
] as const

export class SettingsError extends Error {
  constructor(variable: string, problem: string) {
    super(`invalid setting ${variable}: ${problem}`)
    this.name = 'SettingsError'
  }
}

type Env = Record<string, string | undefined>

export const DEFAULT_SQLITE_PATH = './data/configs.db'

export function loadSettings(env: Env): Settings {
  return {
    port: integer(env, 'SERVE_PORT', 4999, 0, 65535),
    database: databaseTarget(env.DATABASE_URL),
    seed: boolean(env, 'SEED', true),
    apiToken: apiToken(env.API_TOKEN),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 65536, 1, 64 * 1024 * 1024),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    shutdownDelayMs: integer(env, 'SHUTDOWN_DELAY_MS', 0, 0, 600_000),
    watchHistorySize: integer(env, 'WATCH_HISTORY_SIZE', 10_000, 1, 10_000_000),
    watchHeartbeatMs: integer(env, 'WATCH_HEARTBEAT_MS', 15_000, 10, 3_600_000),
    watchBufferEvents: integer(env, 'WATCH_BUFFER_EVENTS', 1000, 1, 1_000_000),
  }
}

function present(env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = present(env, name)
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw)) throw new SettingsError(name, `expected a whole number, got ${JSON.stringify(raw)}`)
  const value = Number(raw)
  if (value < min || value > max) throw new SettingsError(name, `expected ${min} to ${max}, got ${raw}`)
  return value
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = present(env, name)?.toLowerCase()
  if (raw === undefined) return fallback
  if (['true', '1', 'yes'].includes(raw)) return true
  if (['false', '0', 'no'].includes(raw)) return false
  throw new SettingsError(name, `expected true or false, got ${JSON.stringify(raw)}`)
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = present(env, name)
  if (raw === undefined) return fallback
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new SettingsError(name, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`)
  }
  return raw as T
}

function apiToken(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined
  // A token with spaces or control characters cannot travel in a Bearer header intact.
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new SettingsError('API_TOKEN', 'must be printable ASCII without spaces')
  return raw
}

function databaseTarget(raw: string | undefined): DatabaseTarget {
  if (raw === undefined || raw.trim() === '') return { kind: 'sqlite', path: DEFAULT_SQLITE_PATH }
  const url = raw.trim()
  if (url === 'sqlite::memory:') return { kind: 'sqlite', path: ':memory:' }
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (path === '') throw new SettingsError('DATABASE_URL', 'sqlite: needs a file path, e.g. sqlite:./data/configs.db')
    return { kind: 'sqlite', path }
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    try {
      new URL(url)
    } catch {
      throw new SettingsError('DATABASE_URL', 'is not a valid postgres:// URL')
    }
    return { kind: 'postgres', url }
  }
  // Never echo the value: a mistyped URL may still carry a password.
  throw new SettingsError('DATABASE_URL', 'expected sqlite:<path>, sqlite::memory: or postgres://...')
}
