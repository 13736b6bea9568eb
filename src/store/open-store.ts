import type { DatabaseTarget } from '../settings.ts'
import type { ConfigStore } from './config-store.ts'
import type { OpenSqlite } from './sqlite-driver.ts'
import { SqliteConfigStore } from './sqlite-store.ts'

export interface StoreRuntime {
  /** The runtime's SQLite binding (bun:sqlite or node:sqlite). */
  openSqlite: OpenSqlite
}

export async function openStore(target: DatabaseTarget, runtime: StoreRuntime): Promise<ConfigStore> {
  switch (target.kind) {
    case 'sqlite':
      return new SqliteConfigStore({ path: target.path, open: runtime.openSqlite })
    case 'postgres':
      throw new Error('the PostgreSQL store is not available in this build')
  }
}
