/**
 * Group commit: writes queued during one turn of the event loop share one IMMEDIATE
 * transaction, so concurrent writers share one fsync instead of waiting in line for one each.
 * Every write runs as if in its own savepoint (one that fails is undone alone and fails alone),
 * and no write is answered before the COMMIT that made it durable has returned.
 */
import { setImmediate } from 'node:timers'
import type { ChangeEvent } from '../../configs/config-store.ts'
import type { SqliteDatabase, SqliteStatement } from './sqlite-driver.ts'

type QueuedWrite = { work: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }

interface GroupCommitHooks {
  /** Before each BEGIN: throws to refuse the batch (a closed store); ends open read snapshots. */
  beforeBegin(): void
  /** The events of a transaction, once it committed. */
  committed(events: ChangeEvent[]): void
  /** What a write that failed with `error` is refused with (see WriteDurability.failed). */
  failed(error: unknown): unknown
}

export class GroupCommit {
  /** Writes waiting for the next group commit. */
  private queued: QueuedWrite[] = []
  /** Events of the running transaction, published only once it commits. */
  private pending: ChangeEvent[] = []
  private readonly statements: Record<
    'totalChanges' | 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint',
    SqliteStatement
  >

  constructor(
    private readonly db: SqliteDatabase,
    private readonly hooks: GroupCommitHooks,
  ) {
    this.statements = {
      totalChanges: db.prepare('SELECT total_changes() AS n'),
      savepoint: db.prepare('SAVEPOINT write'),
      rollbackToSavepoint: db.prepare('ROLLBACK TO write'),
      releaseSavepoint: db.prepare('RELEASE write'),
    }
  }

  /** Queues a write for the next group commit; settles once that commit is durable. */
  enqueue<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // The commit waits two turns of the event loop: requests that arrive together have their
      // bodies read over a turn or two, and so still share it; one writer alone only waits one
      // idle turn longer (bench/README.md has the measurements).
      if (this.queued.length === 0) setImmediate(() => setImmediate(() => this.commitQueued()))
      this.queued.push({ work, resolve: resolve as (value: unknown) => void, reject })
    })
  }

  /** A write's event: published once its transaction commits, dropped if the write is undone. */
  record(event: ChangeEvent): void {
    this.pending.push(event)
  }

  /**
   * Runs every queued write in one IMMEDIATE transaction. A write that fails before changing
   * anything (a conflict, a failed precondition: the usual failures) just fails. One that fails
   * half-way has the whole batch run again with a savepoint per write, so that exactly its part
   * is undone; savepoints on every write would cost more than the writes themselves. Running a
   * write again is safe: nothing of its first run was kept.
   */
  commitQueued(): void {
    const batch = this.queued
    this.queued = []
    if (batch.length > 0 && !this.runBatch(batch, false)) this.runBatch(batch, true)
  }

  /** False when, without savepoints, a write failed half-way: then nothing was kept or settled. */
  private runBatch(batch: QueuedWrite[], savepoints: boolean): boolean {
    const outcomes: { ok: boolean; value: unknown }[] = []
    this.pending = []
    try {
      this.hooks.beforeBegin()
      this.db.exec('BEGIN IMMEDIATE')
    } catch (error) {
      for (const write of batch) write.reject(this.hooks.failed(error))
      return true
    }
    try {
      for (const write of batch) {
        const published = this.pending.length
        const changes = savepoints ? 0 : this.totalChanges()
        if (savepoints) this.statements.savepoint.run()
        try {
          outcomes.push({ ok: true, value: write.work() })
        } catch (error) {
          if (savepoints) this.statements.rollbackToSavepoint.run()
          else if (this.totalChanges() !== changes) {
            this.pending = []
            this.db.exec('ROLLBACK')
            return false
          }
          this.pending.length = published
          outcomes.push({ ok: false, value: this.hooks.failed(error) })
        }
        if (savepoints) this.statements.releaseSavepoint.run()
      }
      this.db.exec('COMMIT')
    } catch (error) {
      // The transaction itself failed (disk full, I/O error): nothing of the batch was stored.
      this.pending = []
      try {
        this.db.exec('ROLLBACK')
      } catch {
        // SQLite already rolled it back.
      }
      for (const write of batch) write.reject(this.hooks.failed(error))
      return true
    }
    const events = this.pending
    this.pending = []
    this.hooks.committed(events)
    batch.forEach((write, i) => {
      const outcome = outcomes[i] as { ok: boolean; value: unknown }
      if (outcome.ok) write.resolve(outcome.value)
      else write.reject(outcome.value)
    })
    return true
  }

  private totalChanges(): number {
    return Number((this.statements.totalChanges.get() as { n: number }).n)
  }
}
