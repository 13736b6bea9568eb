import type { DatabaseTarget } from '../settings.ts'
import type { ConfigStore } from './config-store.ts'
import type { OpenSqlite } from './sqlite-driver.ts'
import { SqliteConfigStore } from './sqlite-store.ts'

export interface StoreRuntime {
  /** The runtime's SQLite binding (bun:sqlite or node:sqlite). */
  openSqlite: OpenSqlite
}

/** What every backend takes, whatever its database. */
export interface StoreOptions {
  /** How many past events are kept for watch replay (WATCH_HISTORY_SIZE). */
  historySize?: number
}

export async function openStore(
  target: DatabaseTarget,
  runtime: StoreRuntime,
  options: StoreOptions = {},
): Promise<ConfigStore> {
  switch (target.kind) {
    case 'sqlite':
      return new SqliteConfigStore({ path: target.path, open: runtime.openSqlite, historySize: options.historySize })
    case 'postgres':
      throw new Error('the PostgreSQL store is not available in this build')
  }
}
