/** How the PostgreSQL store connects: client settings, the LISTEN client, start-up retries. */
import postgres, { type Sql } from 'postgres'
import type { RetentionPolicy } from '../../configs/config-store.ts'
import { isUnavailable } from './postgres-errors.ts'

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string
  /** How many past events are kept for watch replay. */
  historySize?: number
  /** How long history entries are kept (default: 20 per config, 30 days). */
  retention?: RetentionPolicy
  /** How often retention runs (default every second). */
  pruneIntervalMs?: number
  /** The clock of history entries and of the retention window (ms since the epoch). */
  now?: () => number
  /** Connections in the pool (one more is opened for LISTEN). */
  poolSize?: number
  /**
   * Server-side limit for one statement, waiting for the write lock included; it also bounds
   * how long a write waits behind the earlier writes of this handle. 0 means none.
   */
  statementTimeoutMs?: number
  /** Limit for establishing one connection. */
  connectTimeoutMs?: number
  /** How many more times start-up tries to reach the database before it gives up. */
  connectRetries?: number
  /** How often the change feed retries a lost LISTEN. */
  feedRetryMs?: number
  /** Told of each failed start-up attempt that will be retried, so the wait is not silent. */
  onConnectRetry?: (retry: ConnectRetry) => void
}

/** The settings of every client of the store (the pool and the LISTEN connection). */
export function clientOptions(options: PostgresStoreOptions) {
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000
  return {
    connect_timeout: (options.connectTimeoutMs ?? 5000) / 1000,
    // The client's default backoff grows to 20 s between reconnects; a config service
    // should notice a returning database within about a second.
    backoff: (attempt: number) => Math.min(0.025 * 2 ** attempt, 0.5) * (0.5 + Math.random() / 2),
    fetch_types: false,
    onnotice: () => {},
    connection: {
      application_name: 'config-service',
      statement_timeout: statementTimeoutMs,
      // A replica that stalls mid-write must not hold the store-wide write lock for long.
      idle_in_transaction_session_timeout: statementTimeoutMs === 0 ? 0 : Math.max(statementTimeoutMs, 1000),
    },
  }
}

/** The change feed's own client: one connection, kept open for good, as LISTEN lives on it. */
export function listenClient(
  url: string,
  common: ReturnType<typeof clientOptions>,
  feed: { notified(payload: string): void; disconnected(): void },
): Sql {
  // The client reads `onnotify` (used by its own listen()) but its type definitions omit it,
  // hence a variable rather than a literal. It must neither idle out nor be recycled.
  const listenOptions = {
    ...common,
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    onnotify: (_channel: string, payload: string) => feed.notified(payload),
    onclose: () => feed.disconnected(),
  }
  return postgres(url, listenOptions)
}

/**
 * Start-up: opens a connection of each client while the schema is checked, the change feed's and
 * (the check taking one) a second one of the pool, so that the first readiness probe and reads
 * need not wait for a connect while the read model loads. Their failures are the check's too,
 * and the check reports them.
 */
export function openAhead(...clients: Sql[]): void {
  for (const client of clients) client`SELECT 1`.catch(() => {})
}

/** One failed attempt to reach the database at start-up, before the next one. */
export interface ConnectRetry {
  /** 1 for the first attempt. */
  attempt: number
  /** Attempts there will be at most: 1 + DATABASE_CONNECT_RETRIES. */
  attempts: number
  delayMs: number
  /** The error's message, with the URL's password blanked out. */
  cause: string
}

/** Start-up only: a database that is still starting (or restarting) is waited for, briefly. */
export async function withRetries<T>(
  retries: number,
  onRetry: (attempt: number, delayMs: number, error: unknown) => void,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await attempt()
    } catch (error) {
      if (failures >= retries || !isUnavailable(error)) throw error
      const delayMs = Math.min(250 * 2 ** failures, 5000)
      onRetry(failures + 1, delayMs, error)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
    }
  }
}
