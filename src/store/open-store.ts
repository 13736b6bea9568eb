import type { ConfigStore } from '../configs/config-store.ts'
import type { DatabaseTarget, PostgresSettings } from '../settings.ts'
import type { OpenSqlite } from './sqlite/sqlite-driver.ts'
import { SqliteConfigStore } from './sqlite/sqlite-store.ts'

export interface StoreRuntime {
  /** The runtime's SQLite binding (bun:sqlite or node:sqlite). */
  openSqlite: OpenSqlite
}

/** What every backend takes, whatever its database. */
export interface StoreOptions {
  /** How many past events are kept for watch replay (WATCH_HISTORY_SIZE). */
  historySize?: number
  /** Pool size, timeouts and start-up retries of the PostgreSQL store. */
  postgres?: PostgresSettings
}

export async function openStore(
  target: DatabaseTarget,
  runtime: StoreRuntime,
  options: StoreOptions = {},
): Promise<ConfigStore> {
  switch (target.kind) {
    case 'sqlite':
      return new SqliteConfigStore({ path: target.path, open: runtime.openSqlite, historySize: options.historySize })
    case 'postgres': {
      // Loaded only when used: the driver is not part of a SQLite start-up.
      const { PostgresConfigStore } = await import('./postgres/postgres-store.ts')
      return PostgresConfigStore.open({ url: target.url, ...options.postgres, historySize: options.historySize })
    }
  }
}
