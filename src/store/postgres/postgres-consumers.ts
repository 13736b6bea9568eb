/**
 * ConsumerStore on PostgreSQL, shared by every replica: one replica's report is listed by all.
 * It has a small pool of its own (reports are not configs: they neither wait behind nor delay
 * the config store's write lock). A batch is one transaction; a new consumer of a config takes
 * a transaction-scoped advisory lock on that config, so that two replicas cannot both admit one
 * past CONSUMERS_MAX_PER_CONFIG. The table is created on open, under a lock so that replicas
 * starting together do not race; it belongs to this port, not to the config store's migrations.
 */
import postgres, { type Sql, type TransactionSql } from 'postgres'
import type { ConsumerStore, ConsumerWriteLimits, ConsumerWriteOutcome } from '../../configs/consumer-store.ts'
import type { ConsumerReport, ConsumerState, ConsumerStatusState } from '../../configs/consumers.ts'
import { clientOptions, type PostgresStoreOptions } from './postgres-connect.ts'
import { unavailableOrRethrow } from './postgres-errors.ts'

/** Any fixed key, apart from the advisory locks of the config store. */
const SCHEMA_LOCK = 7_302_911

interface Row {
  dcname: string
  consumer: string
  revision: string | number
  state: string
  message: string
  reported_at: string | number
}

export class PostgresConsumerStore implements ConsumerStore {
  private constructor(private readonly sql: Sql) {}

  static async open(options: Pick<PostgresStoreOptions, 'url' | 'statementTimeoutMs' | 'connectTimeoutMs'>) {
    const sql = postgres(options.url, { ...clientOptions(options), max: 2, idle_timeout: 60 })
    try {
      await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`
        await tx`CREATE TABLE IF NOT EXISTS consumer_reports (
          dcname TEXT NOT NULL,
          consumer TEXT NOT NULL,
          revision BIGINT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('applied', 'rejected')),
          message TEXT NOT NULL,
          reported_at BIGINT NOT NULL,
          PRIMARY KEY (dcname, consumer))`
        await tx`CREATE INDEX IF NOT EXISTS consumer_reports_by_time ON consumer_reports (reported_at)`
      })
      return new PostgresConsumerStore(sql)
    } catch (error) {
      await sql.end({ timeout: 0 }).catch(() => {})
      throw unavailableOrRethrow(error)
    }
  }

  write(reports: readonly ConsumerReport[], limits: ConsumerWriteLimits): Promise<ConsumerWriteOutcome[]> {
    return this.query(() =>
      this.sql.begin(async (tx) => {
        const outcomes: ConsumerWriteOutcome[] = []
        for (const report of reports) outcomes.push(await writeOne(tx, report, limits))
        return outcomes
      }),
    )
  }

  async list(dcname: string): Promise<ConsumerReport[]> {
    const rows = await this.query(
      () => this.sql<Row[]>`SELECT * FROM consumer_reports WHERE dcname = ${dcname} ORDER BY consumer COLLATE "C"`,
    )
    return rows.map(reportOf)
  }

  async countStates(expiredBefore: number): Promise<Record<ConsumerStatusState, number>> {
    const rows = await this.query(
      () => this.sql<{ status: ConsumerStatusState; n: string }[]>`
        SELECT CASE WHEN reported_at < ${expiredBefore} THEN 'expired' ELSE state END AS status, count(*) AS n
        FROM consumer_reports GROUP BY 1`,
    )
    const counts: Record<ConsumerStatusState, number> = { applied: 0, rejected: 0, expired: 0 }
    for (const row of rows) counts[row.status] = Number(row.n)
    return counts
  }

  async prune(before: number): Promise<number> {
    const result = await this.query(() => this.sql`DELETE FROM consumer_reports WHERE reported_at < ${before}`)
    return result.count
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 1 })
  }

  private async query<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      throw unavailableOrRethrow(error)
    }
  }
}

async function writeOne(tx: TransactionSql, r: ConsumerReport, limits: ConsumerWriteLimits) {
  const known = await tx`SELECT 1 FROM consumer_reports WHERE dcname = ${r.dcname} AND consumer = ${r.consumer}`
  if (known.length === 0) {
    await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK}, hashtext(${r.dcname}))`
    const [held] = await tx<{ n: string }[]>`SELECT count(*) AS n FROM consumer_reports WHERE dcname = ${r.dcname}`
    if (Number(held?.n) >= limits.maxPerConfig) {
      const evicted = await tx`
        DELETE FROM consumer_reports WHERE dcname = ${r.dcname} AND consumer = (
          SELECT consumer FROM consumer_reports WHERE dcname = ${r.dcname} AND reported_at < ${limits.expiredBefore}
          ORDER BY reported_at, consumer LIMIT 1)`
      if (evicted.count === 0) return 'full'
    }
  }
  await tx`
    INSERT INTO consumer_reports (dcname, consumer, revision, state, message, reported_at)
    VALUES (${r.dcname}, ${r.consumer}, ${r.revision}, ${r.state}, ${r.message}, ${r.reportedAt})
    ON CONFLICT (dcname, consumer) DO UPDATE SET revision = excluded.revision, state = excluded.state,
      message = excluded.message, reported_at = excluded.reported_at
    WHERE excluded.reported_at >= consumer_reports.reported_at`
  return 'stored'
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
