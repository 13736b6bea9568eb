/**
 * Environment -> typed settings, read and checked once at start-up.
 *
 * Each setting is declared once, in SETTINGS below: its variable, type (with bounds), default
 * and doc. The `Settings` type, the parser, SETTING_NAMES (which the Kubernetes manifests are
 * checked against) and the README's settings table (`make readme`) all derive from it.
 *
 * A bad value throws a SettingsError whose message is one line naming the variable, so the
 * entry point can print it and exit without a stack trace (src/startup.ts).
 */

import { accessProblem } from './settings/access.ts'
import { type Env, readAll, Setting, SettingsError, setting } from './settings/setting.ts'
import {
  bearerToken,
  boolean,
  DEFAULT_SQLITE_PATH,
  databaseUrl,
  httpUrl,
  integer,
  oneOf,
  text,
} from './settings/types.ts'

export { SettingsError } from './settings/setting.ts'
export { type DatabaseTarget, DEFAULT_SQLITE_PATH } from './settings/types.ts'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

const TRACES_EXPORTERS = ['none', 'otlp', 'jaeger', 'console'] as const

/**
 * Every setting, in the order the README lists them. A key holding settings (`postgres`, `tracing`)
 * becomes a sub-object of `Settings`. To add a setting, add one entry here and run `make readme`.
 */
const SETTINGS = {
  port: setting({ env: 'SERVE_PORT', type: integer(0, 65535), default: 4999, doc: 'listen port (0 picks a free one)' }),
  metricsPort: setting({
    env: 'METRICS_PORT',
    type: integer(0, 65535),
    default: undefined,
    doc: 'when set, `/metrics` is served on this port only and `SERVE_PORT` answers 404 for it (0 picks a free one; it must differ from `SERVE_PORT`)',
  }),
  database: setting({
    env: 'DATABASE_URL',
    type: databaseUrl,
    default: { kind: 'sqlite', path: DEFAULT_SQLITE_PATH },
    shownDefault: `unset: the SQLite file \`${DEFAULT_SQLITE_PATH}\``,
    doc: 'where configs are stored, e.g. `sqlite:./data/configs.db` (missing directories are created)',
  }),
  /** How the PostgreSQL store connects; parsed (and checked) whichever store is chosen. */
  postgres: {
    poolSize: setting({
      env: 'DATABASE_POOL_SIZE',
      type: integer(1, 1000),
      default: 10,
      doc: 'PostgreSQL: connections per replica (plus one that LISTENs for changes)',
    }),
    statementTimeoutMs: setting({
      env: 'DATABASE_STATEMENT_TIMEOUT_MS',
      type: integer(0, 3_600_000),
      default: 5000,
      doc: 'PostgreSQL: longest a statement may run, waiting for the write lock (and for earlier writes of the same replica) included (0: no limit); past it the request answers 503',
    }),
    connectTimeoutMs: setting({
      env: 'DATABASE_CONNECT_TIMEOUT_MS',
      type: integer(100, 600_000),
      default: 5000,
      doc: 'PostgreSQL: longest wait for one new connection',
    }),
    connectRetries: setting({
      env: 'DATABASE_CONNECT_RETRIES',
      type: integer(0, 1000),
      default: 10,
      doc: 'PostgreSQL: extra attempts at start-up while the database cannot be reached (backing off from 250 ms up to 5 s, about 33 s in all by default); then the process exits with code 1. Once started, requests answer 503 while it is away',
    }),
  },
  seed: setting({
    env: 'SEED',
    type: boolean,
    default: true,
    doc: 'load `datacenter-1` and `datacenter-2` into a new, never-seeded store',
  }),
  apiToken: setting({
    env: 'API_TOKEN',
    type: bearerToken,
    default: undefined,
    shownDefault: 'unset',
    doc: 'an admin token (its actor is `api-token`), alone or beside `API_TOKENS_FILE`. With no token, file or OIDC set, writes are open. Set but empty is refused, so an empty Secret cannot leave writes open',
  }),
  tokensFile: setting({
    env: 'API_TOKENS_FILE',
    type: text,
    default: undefined,
    doc: 'path of a YAML or JSON file of named tokens (SHA-256 hashes) and JWT subjects, with roles and dcname prefixes (see "Access control"); a change is in force within about 1 s',
  }),
  anonymousRead: setting({
    env: 'ANONYMOUS_READ',
    type: boolean,
    default: true,
    doc: 'reads without a token see every config; `false`: every config read needs a token (probes, docs and metrics stay open)',
  }),
  /** OIDC / Kubernetes service-account JWTs; their roles come from the tokens file's `subjects`. */
  oidc: {
    issuerUrl: setting({
      env: 'OIDC_ISSUER_URL',
      type: httpUrl,
      default: undefined,
      doc: 'the `iss` JWTs must carry; their keys are found through `<it>/.well-known/openid-configuration`',
    }),
    jwksUrl: setting({ env: 'OIDC_JWKS_URL', type: httpUrl, default: undefined, doc: 'JWKS URL instead of discovery' }),
    audience: setting({
      env: 'OIDC_AUDIENCE',
      type: text,
      default: undefined,
      doc: 'the `aud` JWTs must carry, e.g. `config-service`; required with OIDC',
    }),
  },
  maxBodyBytes: setting({
    env: 'MAX_BODY_BYTES',
    type: integer(1, 64 * 1024 * 1024),
    default: 65536,
    doc: 'request body limit (up to 64 MiB); a larger body gets a 413 problem, which even a client that sends its whole body before reading can read for bodies up to 16 MiB (or twice the limit, if more); beyond that the connection is closed after the 413 (on Bun)',
  }),
  logLevel: setting({ env: 'LOG_LEVEL', type: oneOf(LOG_LEVELS), default: 'info', doc: 'least severe level logged' }),
  shutdownDelayMs: setting({
    env: 'SHUTDOWN_DELAY_MS',
    type: integer(0, 600_000),
    default: 0,
    doc: 'readiness fails this long before the listener closes',
  }),
  shutdownTimeoutMs: setting({
    env: 'SHUTDOWN_TIMEOUT_MS',
    type: integer(0, 600_000),
    default: 10_000,
    doc: 'in-flight requests may finish this long after the listener closes; then they are cut off',
  }),
  watchHistorySize: setting({
    env: 'WATCH_HISTORY_SIZE',
    type: integer(1, 10_000_000),
    default: 10_000,
    doc: 'past events kept for watch replay; an older `since` answers 410',
  }),
  historyKeep: setting({
    env: 'HISTORY_KEEP',
    type: integer(1, 1_000_000),
    default: 20,
    doc: 'history entries of each config (and each config schema) always kept (the newest ones)',
  }),
  historyRetentionDays: setting({
    env: 'HISTORY_RETENTION_DAYS',
    type: integer(0, 36_500),
    default: 30,
    doc: 'older history entries are dropped once older than this many days (0: at once, keeping only `HISTORY_KEEP`); the newest `WATCH_HISTORY_SIZE` writes of the store stay as long as watch replay needs them',
  }),
  watchHeartbeatMs: setting({
    env: 'WATCH_HEARTBEAT_MS',
    type: integer(10, 3_600_000),
    default: 15_000,
    doc: 'interval of the `: heartbeat` comment on idle watch streams',
  }),
  watchBufferEvents: setting({
    env: 'WATCH_BUFFER_EVENTS',
    type: integer(1, 1_000_000),
    default: 1000,
    doc: 'events a watcher may fall behind before it is dropped with a final `ERROR` event',
  }),
  watchBufferBytes: setting({
    env: 'WATCH_BUFFER_BYTES',
    type: integer(64 * 1024, 1024 * 1024 * 1024),
    default: 4 * 1024 * 1024,
    doc: 'bytes of events a watcher may hold that its connection has not taken yet (64 KiB to 1 GiB): live events past it drop the watcher with a final `ERROR` event, and a replay (`since`) reads the next page of history only once its watcher holds less than half of it',
  }),
  cacheWaitTimeoutMs: setting({
    env: 'CACHE_WAIT_TIMEOUT_MS',
    type: integer(1, 600_000),
    default: 1500,
    doc: 'PostgreSQL: longest a read waits until the in-memory copy of this replica holds every write the database has committed (through any replica); past it the read answers 503 with `Retry-After`, never a stale answer',
  }),
  prometheusUrl: setting({
    env: 'PROMETHEUS_URL',
    type: httpUrl,
    default: undefined,
    doc: 'Prometheus that rollout gates query (`{prometheus: query}`: the gate fails while the query returns any series); unset, rollouts with such a gate are refused (422)',
  }),
  rolloutPollMs: setting({
    env: 'ROLLOUT_POLL_MS',
    type: integer(10, 600_000),
    default: 1000,
    doc: 'how often the rollout driver looks at its rollouts: ends bakes and evaluates gates (steps asked for through the API are taken at once)',
  }),
  rolloutEventsKept: setting({
    env: 'ROLLOUT_EVENTS_KEPT',
    type: integer(10, 10_000_000),
    default: 10_000,
    doc: 'rollout events (timeline entries of every rollout) kept for watches that resume with `since`; a resume from before the oldest kept answers 410',
  }),
  /** Reports of the programs that apply configs (README "Consumers and the agent"). */
  consumers: {
    ttlMs: setting({
      env: 'CONSUMERS_TTL_MS',
      type: integer(100, 86_400_000),
      default: 90_000,
      doc: 'a consumer report expires this long after it was made unless the consumer reports again (`configctl agent` sends a heartbeat every third of it by default); it is dropped one TTL later',
    }),
    flushMs: setting({
      env: 'CONSUMERS_FLUSH_MS',
      type: integer(1, 60_000),
      default: 200,
      doc: 'reports arriving within this long are stored in one write; a report is answered once stored',
    }),
    maxPerConfig: setting({
      env: 'CONSUMERS_MAX_PER_CONFIG',
      type: integer(1, 100_000),
      default: 1000,
      doc: 'reports one config may hold; a new consumer of a full config takes the place of an expired one, or is refused with 409',
    }),
  },
  /** The OTEL_* variables this service honours (OpenTelemetry's defaults otherwise). */
  tracing: {
    exporter: setting({
      env: 'OTEL_TRACES_EXPORTER',
      type: oneOf(TRACES_EXPORTERS),
      default: 'none',
      doc: 'where spans go: `otlp` (OTLP/HTTP, JSON), `jaeger` (legacy Thrift), `console` (spans as JSON log lines), or nowhere',
    }),
    serviceName: setting({
      env: 'OTEL_SERVICE_NAME',
      type: text,
      default: 'config-service',
      doc: '`service.name` of the exported spans',
    }),
    otlpEndpoint: setting({
      env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      type: httpUrl,
      default: undefined,
      shownDefault: '`http://localhost:4318`',
      doc: 'OTLP base URL; traces go to `<it>/v1/traces`',
    }),
    otlpTracesEndpoint: setting({
      env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
      type: httpUrl,
      default: undefined,
      doc: 'full OTLP traces URL, used as given (wins over the base one)',
    }),
    jaegerAgentHost: setting({
      env: 'OTEL_EXPORTER_JAEGER_AGENT_HOST',
      type: text,
      default: undefined,
      shownDefault: 'localhost',
      doc: 'Jaeger agent host (Thrift binary protocol over UDP)',
    }),
    jaegerAgentPort: setting({
      env: 'OTEL_EXPORTER_JAEGER_AGENT_PORT',
      type: integer(1, 65535),
      default: undefined,
      shownDefault: '6832',
      doc: 'Jaeger agent port',
    }),
    jaegerEndpoint: setting({
      env: 'OTEL_EXPORTER_JAEGER_ENDPOINT',
      type: httpUrl,
      default: undefined,
      doc: 'Jaeger collector URL (e.g. `http://jaeger:14268/api/traces`); when set, used instead of the agent',
    }),
    batchDelayMs: setting({
      env: 'OTEL_BSP_SCHEDULE_DELAY',
      type: integer(1, 600_000),
      default: 5000,
      doc: 'ms finished spans wait before a batch is exported',
    }),
  },
}

/** Every declared setting, groups flattened, in declaration order. */
export const SETTING_LIST: Setting<unknown>[] = Object.values(SETTINGS).flatMap((node) =>
  node instanceof Setting ? [node] : Object.values<Setting<unknown>>(node),
)

/** Every variable loadSettings reads; the Kubernetes manifests are checked against it. */
export const SETTING_NAMES: string[] = SETTING_LIST.map((s) => s.env)

export function loadSettings(env: Env) {
  const { tracing, ...rest } = readAll(SETTINGS, env)
  if (rest.metricsPort !== undefined && rest.metricsPort !== 0 && rest.metricsPort === rest.port) {
    throw new SettingsError('METRICS_PORT', `must differ from SERVE_PORT (${rest.port})`)
  }
  const access = accessProblem(rest)
  if (access) throw new SettingsError(access.variable, access.problem)
  const { otlpEndpoint, otlpTracesEndpoint, ...exporters } = tracing
  // As the OTLP spec says: the per-signal variable is used as is, the base one gets /v1/traces.
  const otlpTracesUrl = otlpTracesEndpoint ?? (otlpEndpoint && `${otlpEndpoint.replace(/\/+$/, '')}/v1/traces`)
  return { ...rest, tracing: { ...exporters, otlpTracesUrl } }
}

export type Settings = ReturnType<typeof loadSettings>
export type PostgresSettings = Settings['postgres']
/** Full OTLP/HTTP traces URL in `otlpTracesUrl`; undefined leaves the exporter's default. */
export type TracingSettings = Settings['tracing']
