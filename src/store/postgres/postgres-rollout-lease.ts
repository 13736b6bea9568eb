/**
 * The rollout driver's lease on PostgreSQL: a session advisory lock held on one reserved
 * connection. Only the replica holding it drives rollouts; when that replica dies its session
 * ends, the lock with it, and the next replica to ask takes over where the saved rollouts left
 * off. A lease that may have been lost (its connection failed) is given up at once; the saves'
 * version check and the config writes' If-Match fence a step that raced the hand-over.
 */
import type { ReservedSql, Sql } from 'postgres'
import type { DriverLease } from '../../configs/rollouts/rollout-driver.ts'

/** Arbitrary, fixed: the key of the rollout driver's lock (the migrations use another). */
const DRIVER_LOCK_KEY = 4_242_001_002

export class PostgresRolloutLease implements DriverLease {
  private held: ReservedSql | undefined

  constructor(private readonly sql: Sql) {}

  async hold(): Promise<boolean> {
    if (this.held) {
      try {
        // Still our session: the lock is still ours.
        await this.held`SELECT 1`
        return true
      } catch {
        this.drop()
      }
    }
    const connection = await this.sql.reserve()
    try {
      const [row] = await connection<{ locked: boolean }[]>`SELECT pg_try_advisory_lock(${DRIVER_LOCK_KEY}) AS locked`
      if (row?.locked) {
        this.held = connection
        return true
      }
    } catch {
      // The database is away: no lease now; asked again on the next tick.
    }
    connection.release()
    return false
  }

  async release(): Promise<void> {
    const held = this.held
    if (!held) return
    this.held = undefined
    await held`SELECT pg_advisory_unlock(${DRIVER_LOCK_KEY})`.catch(() => {})
    held.release()
  }

  private drop(): void {
    this.held?.release()
    this.held = undefined
  }
}
