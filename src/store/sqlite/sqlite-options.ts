/** What a SQLite store is opened with; only the path and the driver are required. */
import type { RetentionPolicy } from '../../configs/config-store.ts'
import type { SnapshotGroup } from './read-snapshot.ts'
import type { OpenSqlite } from './sqlite-driver.ts'
import type { DurabilityListener } from './write-durability.ts'

export interface SqliteStoreOptions {
  path: string
  open: OpenSqlite
  /** How many past events are kept for watch replay. */
  historySize?: number
  /** How long history entries are kept (default: 20 per config, 30 days). */
  retention?: RetentionPolicy | undefined
  /** How often retention runs (default every second). */
  pruneIntervalMs?: number
  /** The clock of history entries and of the retention window (ms since the epoch). */
  now?: () => number
  /** Handles of this file whose read snapshots a write of this one ends first (see SnapshotGroup). */
  snapshots?: SnapshotGroup
  /** Told once when writes start failing for a cause of the disk (with it), once when they work again. */
  onDurability?: DurabilityListener
}
