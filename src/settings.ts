/**
 * Environment -> typed settings, read and checked once at start-up.
 * A bad value throws a SettingsError whose message is one line naming the variable,
 * so the entry point can print it and exit without a stack trace (src/startup.ts).
 */

export type DatabaseTarget =
  | { kind: 'sqlite'; path: string } // path ':memory:' is an in-memory database
  | { kind: 'postgres'; url: string }

/** How the PostgreSQL store connects; parsed (and checked) whichever store is chosen. */
export interface PostgresSettings {
  poolSize: number
  /** 0 means no limit. */
  statementTimeoutMs: number
  connectTimeoutMs: number
  /** Extra attempts at start-up while the database cannot be reached. */
  connectRetries: number
}

export interface Settings {
  port: number
  /** When set, `/metrics` is served on this port only (and answers 404 on `port`). */
  metricsPort: number | undefined
  database: DatabaseTarget
  /** Used when `database` is PostgreSQL. */
  postgres: PostgresSettings
  seed: boolean
  apiToken: string | undefined
  maxBodyBytes: number
  logLevel: LogLevel
  shutdownDelayMs: number
  /** How long in-flight requests may run on after the listener closes before they are cut off. */
  shutdownTimeoutMs: number
  /** Past events kept for watch replay (`since`); older revisions answer 410. */
  watchHistorySize: number
  /** Interval of the `: heartbeat` comment on idle watch streams. */
  watchHeartbeatMs: number
  /** Events one watcher may have waiting before it is dropped with a final ERROR event. */
  watchBufferEvents: number
  tracing: TracingSettings
}

export const TRACES_EXPORTERS = ['none', 'otlp', 'jaeger', 'console'] as const
export type TracesExporter = (typeof TRACES_EXPORTERS)[number]

/** The OTEL_* variables this service honours, resolved once (OpenTelemetry's defaults otherwise). */
export interface TracingSettings {
  exporter: TracesExporter
  serviceName: string
  /** Full OTLP/HTTP traces URL; undefined leaves the exporter's default (localhost:4318/v1/traces). */
  otlpTracesUrl: string | undefined
  jaegerAgentHost: string | undefined
  jaegerAgentPort: number | undefined
  /** Jaeger collector URL (Thrift over HTTP); when set it is used instead of the UDP agent. */
  jaegerEndpoint: string | undefined
  /** How long finished spans wait before a batch is exported. */
  batchDelayMs: number
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Every variable this module reads; the Kubernetes manifests are checked against it. */
export const SETTING_NAMES = [
  'SERVE_PORT',
  'METRICS_PORT',
  'DATABASE_URL',
  'SEED',
  'API_TOKEN',
  'MAX_BODY_BYTES',
  'LOG_LEVEL',
  'SHUTDOWN_DELAY_MS',
  'DATABASE_POOL_SIZE',
  'DATABASE_STATEMENT_TIMEOUT_MS',
  'DATABASE_CONNECT_TIMEOUT_MS',
  'DATABASE_CONNECT_RETRIES',
  'SHUTDOWN_TIMEOUT_MS',
  'WATCH_HISTORY_SIZE',
  'WATCH_HEARTBEAT_MS',
  'WATCH_BUFFER_EVENTS',
  'OTEL_TRACES_EXPORTER',
  'OTEL_SERVICE_NAME',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_JAEGER_AGENT_HOST',
  'OTEL_EXPORTER_JAEGER_AGENT_PORT',
  'OTEL_EXPORTER_JAEGER_ENDPOINT',
  'OTEL_BSP_SCHEDULE_DELAY',
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
  const port = integer(env, 'SERVE_PORT', 4999, 0, 65535)
  return {
    port,
    metricsPort: metricsPort(env, port),
    database: databaseTarget(env.DATABASE_URL),
    postgres: postgresSettings(env),
    seed: boolean(env, 'SEED', true),
    apiToken: apiToken(env.API_TOKEN),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 65536, 1, 64 * 1024 * 1024),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    shutdownDelayMs: integer(env, 'SHUTDOWN_DELAY_MS', 0, 0, 600_000),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    watchHistorySize: integer(env, 'WATCH_HISTORY_SIZE', 10_000, 1, 10_000_000),
    watchHeartbeatMs: integer(env, 'WATCH_HEARTBEAT_MS', 15_000, 10, 3_600_000),
    watchBufferEvents: integer(env, 'WATCH_BUFFER_EVENTS', 1000, 1, 1_000_000),
    tracing: tracingSettings(env),
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

function metricsPort(env: Env, servePort: number): number | undefined {
  if (present(env, 'METRICS_PORT') === undefined) return undefined
  const port = integer(env, 'METRICS_PORT', 0, 0, 65535)
  // 0 on both picks two free ports; the same fixed port twice cannot be listened on.
  if (port !== 0 && port === servePort) throw new SettingsError('METRICS_PORT', `must differ from SERVE_PORT (${port})`)
  return port
}

function apiToken(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  // Set but empty is most likely a Secret that came out empty: leaving writes open would be silent.
  if (raw.trim() === '') throw new SettingsError('API_TOKEN', 'is set but empty; unset it to leave writes open')
  // A token with spaces or control characters cannot travel in a Bearer header intact.
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new SettingsError('API_TOKEN', 'must be printable ASCII without spaces')
  return raw
}

function postgresSettings(env: Env): PostgresSettings {
  return {
    poolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    statementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 5000, 0, 3_600_000),
    connectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    connectRetries: integer(env, 'DATABASE_CONNECT_RETRIES', 10, 0, 1000),
  }
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

function tracingSettings(env: Env): TracingSettings {
  const base = httpUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')
  const agentPort = present(env, 'OTEL_EXPORTER_JAEGER_AGENT_PORT')
  return {
    exporter: oneOf(env, 'OTEL_TRACES_EXPORTER', TRACES_EXPORTERS, 'none'),
    serviceName: present(env, 'OTEL_SERVICE_NAME') ?? 'config-service',
    // As the OTLP spec says: the per-signal variable is used as is, the base one gets /v1/traces.
    otlpTracesUrl:
      httpUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? (base && `${base.replace(/\/+$/, '')}/v1/traces`),
    jaegerAgentHost: present(env, 'OTEL_EXPORTER_JAEGER_AGENT_HOST'),
    jaegerAgentPort:
      agentPort === undefined ? undefined : integer(env, 'OTEL_EXPORTER_JAEGER_AGENT_PORT', 6832, 1, 65535),
    jaegerEndpoint: httpUrl(env, 'OTEL_EXPORTER_JAEGER_ENDPOINT'),
    batchDelayMs: integer(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 1, 600_000),
  }
}

function httpUrl(env: Env, name: string): string | undefined {
  const raw = present(env, name)
  if (raw === undefined) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new SettingsError(name, 'expected an http:// or https:// URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SettingsError(name, 'expected an http:// or https:// URL')
  }
  return raw
}
