/**
 * The rollout driver's lease on PostgreSQL: a session advisory lock, on a client of one
 * connection kept open. Only the replica holding it drives rollouts; when that replica dies its
 * session ends, the lock with it, and the next replica to ask takes over where the saved
 * rollouts left off. Each tick asks pg_locks whether this session still holds it (a reconnect is
 * a new session, which holds nothing until it locks again). The saves' version check and the
 * config writes' If-Match fence a step that raced a hand-over.
 */
import postgres, { type Sql } from 'postgres'
import type { DriverLease } from '../../configs/rollouts/rollout-driver.ts'
import { clientOptions, type PostgresStoreOptions } from './postgres-connect.ts'

/** Arbitrary, fixed: the key of the rollout driver's lock (the migrations use another). */
const DRIVER_LOCK_KEY = 4_242_001_002

export class PostgresRolloutLease implements DriverLease {
  readonly sql: Sql

  constructor(options: PostgresStoreOptions) {
    this.sql = postgres(options.url, { ...clientOptions(options), max: 1, idle_timeout: 0, max_lifetime: null })
  }

  async hold(): Promise<boolean> {
    try {
      // A single bigint key is kept as classid (its high 32 bits, 0 here) and objid.
      const [row] = await this.sql<{ locked: boolean }[]>`
        SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0
                         AND objid = ${DRIVER_LOCK_KEY} AND objsubid = 1 AND pid = pg_backend_pid() AND granted)
               OR pg_try_advisory_lock(${DRIVER_LOCK_KEY}) AS locked`
      return row?.locked === true
    } catch {
      // The database is away: no lease now; asked again on the next tick.
      return false
    }
  }

  async release(): Promise<void> {
    await this.sql.end({ timeout: 5 })
  }
}
