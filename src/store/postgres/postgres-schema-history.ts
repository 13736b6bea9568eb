/**
 * The history of config schemas on PostgreSQL, as sqlite-schema-history.ts keeps it on SQLite:
 * one `schema_history` row per schema write, in the write's transaction, with retention of that
 * schema's older entries right there (schema writes are rare), dropped ranges recorded per
 * schema in `schema_history_compaction`. Every replica reads the same history.
 */
import type { Sql } from 'postgres'
import type { ChangeType } from '../../configs/changes.ts'
import { HistoryCompactedError, type HistoryQuery, type RetentionPolicy } from '../../configs/config-store.ts'
import { checkRevisionReached } from '../../configs/revision-rules.ts'
import {
  changeEventOf,
  historyEntryOf,
  type SchemaChangePage,
  type SchemaHistoryPage,
  type SchemaHistoryRow,
  schemaStateAt,
} from '../../configs/schema-history.ts'
import { SchemaNotFoundError, type StoredSchema } from '../../configs/schema-model.ts'

const DAY_MS = 86_400_000

export interface SchemaEntryInput {
  revision: number
  type: ChangeType
  name: string
  prefix: string
  mode: string
  source: string
  actor: string
  requestId: string
  rollbackOf?: number
  force?: boolean
}

export class PostgresSchemaHistory {
  constructor(
    private readonly retention: RetentionPolicy,
    private readonly now: () => number,
  ) {}

  /** In the write's transaction: its entry, then retention of that schema's older ones. */
  async append(tx: Sql, entry: SchemaEntryInput): Promise<void> {
    const time = this.now()
    const cutoff = time - this.retention.days * DAY_MS
    await tx`
      INSERT INTO schema_history (revision, type, name, prefix, mode, source, time, actor, request_id, rollback_of, forced)
      VALUES (${entry.revision}, ${entry.type}, ${entry.name}, ${entry.prefix}, ${entry.mode}, ${entry.source},
              to_timestamp(${time}::float8 / 1000), ${entry.actor}, ${entry.requestId}, ${entry.rollbackOf ?? null},
              ${entry.force === true})`
    // The newest `keep` entries stay (OFFSET keep); of the rest, those written by the cutoff go.
    await tx`
      WITH gone AS (
        DELETE FROM schema_history WHERE name = ${entry.name}
          AND time <= to_timestamp(${cutoff}::float8 / 1000)
          AND revision <= (SELECT revision FROM schema_history WHERE name = ${entry.name}
                           ORDER BY revision DESC LIMIT 1 OFFSET ${this.retention.keep})
        RETURNING revision
      )
      INSERT INTO schema_history_compaction (name, first_dropped, dropped_through)
      SELECT ${entry.name}, min(revision), max(revision) FROM gone HAVING count(*) > 0
      ON CONFLICT (name) DO UPDATE SET
        first_dropped = least(schema_history_compaction.first_dropped, excluded.first_dropped),
        dropped_through = greatest(schema_history_compaction.dropped_through, excluded.dropped_through)`
  }

  async page(sql: Sql, name: string, query: HistoryQuery): Promise<SchemaHistoryPage> {
    const before = query.before ?? Number.MAX_SAFE_INTEGER
    const rows = await sql<SchemaHistoryRow[]>`
      SELECT ${sql.unsafe(COLUMNS)} FROM schema_history WHERE name = ${name} AND revision < ${before}
      ORDER BY revision DESC LIMIT ${query.limit + 1}`
    if (rows.length === 0) {
      const [known] = await sql`SELECT 1 FROM schema_history_compaction WHERE name = ${name}`
      if (!known) throw new SchemaNotFoundError(name)
    }
    return { entries: rows.slice(0, query.limit).map(historyEntryOf), more: rows.length > query.limit }
  }

  /** `sql` may be a write's transaction (a rollback reads there, under the write lock). */
  async stateAt(sql: Sql, name: string, revision: number, storeRevision?: number): Promise<StoredSchema | undefined> {
    const [row] = await sql<
      (Partial<SchemaHistoryRow> & {
        first_dropped: string | null
        dropped_through: string | null
        oldest: string | null
        store_revision: string
      })[]
    >`
      SELECT e.*, c.first_dropped, c.dropped_through,
             (SELECT min(revision) FROM schema_history WHERE name = ${name}) AS oldest,
             (SELECT revision FROM store_state) AS store_revision
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (
        SELECT ${sql.unsafe(COLUMNS)} FROM schema_history WHERE name = ${name} AND revision <= ${revision}
        ORDER BY revision DESC LIMIT 1
      ) e ON true
      LEFT JOIN schema_history_compaction c ON c.name = ${name}`
    checkRevisionReached(revision, storeRevision ?? Number(row?.store_revision ?? 0))
    return schemaStateAt({
      name,
      revision,
      entry: row?.revision != null ? (row as SchemaHistoryRow) : undefined,
      dropped:
        row?.first_dropped != null
          ? { first: Number(row.first_dropped), through: Number(row.dropped_through) }
          : undefined,
      oldestKept: row?.oldest == null ? undefined : Number(row.oldest),
    })
  }

  async changesAfter(sql: Sql, after: number, limit: number): Promise<SchemaChangePage> {
    const [dropped] = await sql<{ through: string | null }[]>`
      SELECT max(dropped_through) AS through FROM schema_history_compaction`
    const through = Number(dropped?.through ?? 0)
    if (after < through) throw new HistoryCompactedError(after, through)
    const rows = await sql<SchemaHistoryRow[]>`
      SELECT ${sql.unsafe(COLUMNS)} FROM schema_history WHERE revision > ${after}
      ORDER BY revision LIMIT ${limit + 1}`
    return { events: rows.slice(0, limit).map(changeEventOf), more: rows.length > limit }
  }
}

const COLUMNS = `revision, type, name, prefix, mode, source,
  (extract(epoch FROM time) * 1000)::float8 AS time_ms, actor, request_id, rollback_of, forced`
