import { statSync } from 'node:fs'
import { dirname } from 'node:path'
import { type ConfigStore, type RetentionPolicy, StoreUnavailableError } from './configs/config-store.ts'
import type { DatabaseTarget, PostgresSettings } from './settings.ts'
import { StartupError } from './startup.ts'
import { withoutPassword } from './store/postgres/postgres-errors.ts'
import type { ConnectRetry } from './store/postgres/postgres-store.ts'
import type { OpenSqlite } from './store/sqlite/sqlite-driver.ts'
import { SqliteConfigStore } from './store/sqlite/sqlite-store.ts'

export type { ConnectRetry }

export interface StoreRuntime {
  /** The runtime's SQLite binding (bun:sqlite or node:sqlite). */
  openSqlite: OpenSqlite
}

/** What every backend takes, whatever its database. */
export interface StoreOptions {
  /** How many past events are kept for watch replay (WATCH_HISTORY_SIZE). */
  historySize?: number
  /** HISTORY_KEEP and HISTORY_RETENTION_DAYS. */
  retention?: RetentionPolicy
  /** Pool size, timeouts and start-up retries of the PostgreSQL store. */
  postgres?: PostgresSettings
  /** Told of each failed attempt to reach PostgreSQL at start-up that will be retried. */
  onConnectRetry?: (retry: ConnectRetry) => void
  /**
   * SQLite: told once when writes start failing for a cause of the disk (a full disk, I/O
   * errors, a read-only file), with that cause, and once (undefined) when a write works again.
   */
  onWriteDurability?: (problem: string | undefined) => void
}

/**
 * Opens the store DATABASE_URL names. A database that cannot be opened or reached fails with a
 * StartupError naming DATABASE_URL and the cause, never the URL itself (it may hold a password).
 */
export async function openStore(
  target: DatabaseTarget,
  runtime: StoreRuntime,
  options: StoreOptions = {},
): Promise<ConfigStore> {
  switch (target.kind) {
    case 'sqlite':
      try {
        return new SqliteConfigStore({
          path: target.path,
          open: runtime.openSqlite,
          historySize: options.historySize,
          retention: options.retention,
          onDurability: options.onWriteDurability,
        })
      } catch (error) {
        throw new StartupError(
          'DATABASE_URL',
          `cannot open the SQLite database ${target.path}: ${sqliteProblem(target.path, error)}`,
        )
      }
    case 'postgres': {
      // Loaded only when used: the driver is not part of a SQLite start-up.
      const { PostgresConfigStore } = await import('./store/postgres/postgres-store.ts')
      const retries = options.postgres?.connectRetries ?? 10
      try {
        return await PostgresConfigStore.open({
          url: target.url,
          ...options.postgres,
          historySize: options.historySize,
          retention: options.retention,
          onConnectRetry: options.onConnectRetry,
        })
      } catch (error) {
        const where = `PostgreSQL at ${postgresAddress(target.url)}`
        if (error instanceof StoreUnavailableError) {
          const attempts = `${retries + 1} attempt${retries === 0 ? '' : 's'} (DATABASE_CONNECT_RETRIES=${retries})`
          throw new StartupError(
            'DATABASE_URL',
            `${where} unavailable after ${attempts}: ${withoutPassword(error.cause, target.url)}`,
          )
        }
        // Refused for good (wrong password, no such database, no right to create the tables):
        // the driver or the server gave a code. Anything else is a bug and keeps its stack.
        if (typeof (error as { code?: unknown } | null)?.code !== 'string') throw error
        throw new StartupError('DATABASE_URL', `${where}: ${withoutPassword(error, target.url)}`)
      }
    }
  }
}

/** host:port of a postgres:// URL, which is all of it a failure line may show. */
function postgresAddress(url: string): string {
  const parsed = new URL(url)
  const host = parsed.searchParams.get('host') ?? (parsed.hostname || 'localhost')
  return `${host}:${parsed.port || '5432'}`
}

/** SQLite says only "unable to open database file"; the file system usually knows why. */
function sqliteProblem(path: string, error: unknown): string {
  const { code, path: failedAt } = (error ?? {}) as { code?: unknown; path?: unknown }
  // Creating the parent directories failed: the error names the part of the path at fault.
  const part = typeof failedAt === 'string' ? failedAt : dirname(path)
  if (isDirectory(path)) return 'it is a directory'
  if (code === 'EEXIST' || code === 'ENOTDIR') return `${part} is not a directory`
  if (code === 'EACCES' || code === 'EPERM') return `permission denied for ${part}`
  if (code === 'EROFS') return 'read-only file system'
  return error instanceof Error ? error.message : String(error)
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}
