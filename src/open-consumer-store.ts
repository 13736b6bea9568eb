/**
 * Opens the store of consumer reports next to the config store DATABASE_URL names: the same
 * SQLite file (a connection of its own) or the same PostgreSQL database (a small pool of its
 * own). Called once the config store is open, so the database is known to be there.
 */
import type { ConsumerStore } from './configs/consumer-store.ts'
import type { StoreRuntime } from './open-store.ts'
import type { DatabaseTarget, PostgresSettings } from './settings.ts'
import { SqliteConsumerStore } from './store/sqlite/sqlite-consumers.ts'

export async function openConsumerStore(
  target: DatabaseTarget,
  runtime: StoreRuntime,
  postgresSettings?: PostgresSettings,
): Promise<ConsumerStore> {
  if (target.kind === 'sqlite') return new SqliteConsumerStore({ path: target.path, open: runtime.openSqlite })
  // Loaded only when used, as the PostgreSQL config store is.
  const { PostgresConsumerStore } = await import('./store/postgres/postgres-consumers.ts')
  return PostgresConsumerStore.open({ url: target.url, ...postgresSettings })
}
