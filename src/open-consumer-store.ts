/**
 * Opens the store of consumer reports next to the config store DATABASE_URL names: the same
 * SQLite file (a connection of its own) or the same PostgreSQL database (a small pool of its
 * own). Called once the config store is open, so the database is known to be there.
 */
import type { ConsumerStore } from './configs/consumer-store.ts'
import type { StoreRuntime } from './open-store.ts'
import type { DatabaseTarget, PostgresSettings } from './settings.ts'
import { StartupError } from './startup.ts'
import { withoutPassword } from './store/postgres/postgres-errors.ts'
import { SqliteConsumerStore } from './store/sqlite/sqlite-consumers.ts'

export async function openConsumerStore(
  target: DatabaseTarget,
  runtime: StoreRuntime,
  postgresSettings?: PostgresSettings,
): Promise<ConsumerStore> {
  try {
    if (target.kind === 'sqlite') return new SqliteConsumerStore({ path: target.path, open: runtime.openSqlite })
    // Loaded only when used, as the PostgreSQL config store is.
    const { PostgresConsumerStore } = await import('./store/postgres/postgres-consumers.ts')
    return await PostgresConsumerStore.open({ url: target.url, ...postgresSettings })
  } catch (error) {
    // One line naming the setting, as for the config store; never the URL (it may hold a password).
    const cause = error instanceof Error ? (error.cause ?? error) : error
    const detail =
      target.kind === 'postgres' ? withoutPassword(cause, target.url) : String((cause as Error)?.message ?? cause)
    throw new StartupError('DATABASE_URL', `cannot open the consumer reports' table: ${detail}`)
  }
}
