/**
 * ConsumerStore on the service's SQLite file, through a connection of its own: reports are not
 * configs, and keeping them off the config store's group commit keeps that store's contract as
 * it is. Both connections live in one process, and every call here is one synchronous
 * transaction, so neither ever waits for the other. The table is created on open (IF NOT
 * EXISTS): it belongs to this port, not to the config store's numbered migrations.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { StoreUnavailableError } from '../../configs/config-store.ts'
import type { ConsumerStore, ConsumerWriteLimits, ConsumerWriteOutcome } from '../../configs/consumer-store.ts'
import type { ConsumerReport, ConsumerState, ConsumerStatusState } from '../../configs/consumers.ts'
import type { OpenSqlite, SqliteDatabase } from './sqlite-driver.ts'

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS consumer_reports (
     dcname TEXT NOT NULL,
     consumer TEXT NOT NULL,
     revision INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('applied', 'rejected')),
     message TEXT NOT NULL,
     reported_at INTEGER NOT NULL,
     PRIMARY KEY (dcname, consumer)
   ) WITHOUT ROWID`,
  'CREATE INDEX IF NOT EXISTS consumer_reports_by_time ON consumer_reports (reported_at)',
]

interface Row {
  dcname: string
  consumer: string
  revision: number
  state: string
  message: string
  reported_at: number
}

export class SqliteConsumerStore implements ConsumerStore {
  private readonly db: SqliteDatabase
  private readonly statements
  private closed = false

  constructor(options: { path: string; open: OpenSqlite }) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
    this.db = options.open(options.path)
    this.db.exec('PRAGMA busy_timeout = 5000')
    this.db.exec('PRAGMA synchronous = FULL')
    for (const statement of SCHEMA) this.db.exec(statement)
    const db = this.db
    this.statements = {
      exists: db.prepare('SELECT 1 AS found FROM consumer_reports WHERE dcname = ? AND consumer = ?'),
      count: db.prepare('SELECT count(*) AS n FROM consumer_reports WHERE dcname = ?'),
      evict: db.prepare(
        `DELETE FROM consumer_reports WHERE dcname = ?1 AND consumer = (
           SELECT consumer FROM consumer_reports WHERE dcname = ?1 AND reported_at < ?2
           ORDER BY reported_at, consumer LIMIT 1)`,
      ),
      upsert: db.prepare(
        `INSERT INTO consumer_reports (dcname, consumer, revision, state, message, reported_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (dcname, consumer) DO UPDATE SET revision = excluded.revision, state = excluded.state,
           message = excluded.message, reported_at = excluded.reported_at
         WHERE excluded.reported_at >= consumer_reports.reported_at`,
      ),
      list: db.prepare('SELECT * FROM consumer_reports WHERE dcname = ? ORDER BY consumer'),
      countStates: db.prepare(
        `SELECT CASE WHEN reported_at < ? THEN 'expired' ELSE state END AS status, count(*) AS n
         FROM consumer_reports GROUP BY status`,
      ),
      prune: db.prepare('DELETE FROM consumer_reports WHERE reported_at < ?'),
    }
  }

  async write(reports: readonly ConsumerReport[], limits: ConsumerWriteLimits): Promise<ConsumerWriteOutcome[]> {
    return this.transaction(() =>
      reports.map((r) => {
        const known = this.statements.exists.get(r.dcname, r.consumer)
        if (!known) {
          const held = Number((this.statements.count.get(r.dcname) as { n: number }).n)
          if (
            held >= limits.maxPerConfig &&
            Number(this.statements.evict.run(r.dcname, limits.expiredBefore).changes) === 0
          ) {
            return 'full'
          }
        }
        this.statements.upsert.run(r.dcname, r.consumer, r.revision, r.state, r.message, r.reportedAt)
        return 'stored'
      }),
    )
  }

  async list(dcname: string): Promise<ConsumerReport[]> {
    this.ensureOpen()
    return (this.statements.list.all(dcname) as unknown as Row[]).map(reportOf)
  }

  async countStates(expiredBefore: number): Promise<Record<ConsumerStatusState, number>> {
    this.ensureOpen()
    const counts: Record<ConsumerStatusState, number> = { applied: 0, rejected: 0, expired: 0 }
    for (const row of this.statements.countStates.all(expiredBefore) as { status: ConsumerStatusState; n: number }[]) {
      counts[row.status] = Number(row.n)
    }
    return counts
  }

  async prune(before: number): Promise<number> {
    return this.transaction(() => Number(this.statements.prune.run(before).changes))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.db.close()
  }

  private transaction<T>(work: () => T): T {
    this.ensureOpen()
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const result = work()
      this.db.exec('COMMIT')
      return result
    } catch (error) {
      this.db.exec('ROLLBACK')
      throw error
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreUnavailableError(new Error('the consumer store is closed'))
  }
}

function reportOf(row: Row): ConsumerReport {
  return {
    dcname: row.dcname,
    consumer: row.consumer,
    revision: Number(row.revision),
    state: row.state as ConsumerState,
    message: row.message,
    reportedAt: Number(row.reported_at),
  }
}
