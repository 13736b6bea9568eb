/**
 * Reads share one read transaction per turn of the event loop: taking and dropping SQLite's WAL
 * read lock costs three system calls, more than the read itself, and under load a turn serves
 * many requests. A turn's reads see one snapshot; a write first ends the open read transactions
 * of its group (see SnapshotGroup), so a read after an acknowledged write sees it.
 */
import { setImmediate } from 'node:timers'
import type { SqliteDatabase, SqliteStatement } from './sqlite-driver.ts'
import { unavailableOrRethrow } from './sqlite-errors.ts'

/**
 * The handles of one database file whose snapshots a write ends before it begins. A store
 * handle is a group of its own unless it is given one: handles that share a file in one process
 * and must see each other's acknowledged writes within a turn share a group.
 */
export class SnapshotGroup {
  private readonly open = new Set<TurnSnapshot>()

  /** Ends every open snapshot of the group. */
  endAll(): void {
    for (const snapshot of [...this.open]) snapshot.end()
  }

  opened(snapshot: TurnSnapshot): void {
    this.open.add(snapshot)
  }

  ended(snapshot: TurnSnapshot): void {
    this.open.delete(snapshot)
  }
}

/** The read transaction of one connection, open from its first read in a turn to the turn's end. */
export class TurnSnapshot {
  private readonly begin: SqliteStatement
  private readonly commit: SqliteStatement
  private reading = false

  constructor(
    db: SqliteDatabase,
    private readonly group: SnapshotGroup,
  ) {
    this.begin = db.prepare('BEGIN')
    this.commit = db.prepare('COMMIT')
  }

  /** Runs `work` in this turn's snapshot, opening it on the turn's first read. */
  read<T>(work: () => T): T {
    if (!this.reading) {
      try {
        this.begin.run()
      } catch (error) {
        throw unavailableOrRethrow(error)
      }
      this.reading = true
      this.group.opened(this)
      setImmediate(() => this.end())
    }
    try {
      return work()
    } catch (error) {
      throw unavailableOrRethrow(error)
    }
  }

  end(): void {
    if (!this.reading) return
    this.reading = false
    this.group.ended(this)
    try {
      this.commit.run()
    } catch {
      // Nothing was written in it: there is nothing to lose.
    }
  }
}
