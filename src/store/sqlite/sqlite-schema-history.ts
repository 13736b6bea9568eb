/**
 * The history of config schemas in the SQLite store: one `schema_history` row per schema write,
 * appended in the write's transaction. Schema writes are rare, so retention runs right there, on
 * the schema written: its entries beyond the newest `keep` that are older than `days` go, and
 * the range dropped is recorded (`schema_history_compaction`) so that a read there answers
 * "compacted" rather than "did not exist".
 */

import type { ChangeType } from '../../configs/changes.ts'
import { HistoryCompactedError, type HistoryQuery, type RetentionPolicy } from '../../configs/config-store.ts'
import {
  changeEventOf,
  historyEntryOf,
  type SchemaChangePage,
  type SchemaHistoryPage,
  type SchemaHistoryRow,
  schemaStateAt,
} from '../../configs/schema-history.ts'
import { SchemaNotFoundError, type StoredSchema } from '../../configs/schema-model.ts'
import type { SqliteDatabase } from './sqlite-driver.ts'

const DAY_MS = 86_400_000
const COLUMNS = 'revision, type, name, prefix, mode, source, time AS time_ms, actor, request_id, rollback_of, forced'

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

type Compaction = { first_dropped: number; dropped_through: number }

export class SqliteSchemaHistory {
  private readonly statements

  constructor(
    db: SqliteDatabase,
    private readonly retention: RetentionPolicy,
    private readonly now: () => number,
  ) {
    this.statements = {
      append: db.prepare(
        `INSERT INTO schema_history (revision, type, name, prefix, mode, source, time, actor, request_id, rollback_of, forced)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      page: db.prepare(
        `SELECT ${COLUMNS} FROM schema_history WHERE name = ? AND revision < ? ORDER BY revision DESC LIMIT ?`,
      ),
      latestAt: db.prepare(
        `SELECT ${COLUMNS} FROM schema_history WHERE name = ? AND revision <= ? ORDER BY revision DESC LIMIT 1`,
      ),
      oldestKept: db.prepare('SELECT min(revision) AS revision FROM schema_history WHERE name = ?'),
      compaction: db.prepare('SELECT first_dropped, dropped_through FROM schema_history_compaction WHERE name = ?'),
      droppedThrough: db.prepare('SELECT max(dropped_through) AS through FROM schema_history_compaction'),
      after: db.prepare(`SELECT ${COLUMNS} FROM schema_history WHERE revision > ? ORDER BY revision LIMIT ?`),
      // The newest `keep` entries stay (OFFSET keep); of the rest, those written by the cutoff go.
      drop: db.prepare(
        `DELETE FROM schema_history WHERE name = ?1 AND time <= ?2 AND revision <=
           (SELECT revision FROM schema_history WHERE name = ?1 ORDER BY revision DESC LIMIT 1 OFFSET ?3)
         RETURNING revision`,
      ),
      recordCompaction: db.prepare(
        `INSERT INTO schema_history_compaction (name, first_dropped, dropped_through) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET
           first_dropped = min(first_dropped, excluded.first_dropped),
           dropped_through = max(dropped_through, excluded.dropped_through)`,
      ),
    }
  }

  /** Inside the write's transaction: its entry, then retention of that schema's older ones. */
  append(entry: SchemaEntryInput): void {
    const time = this.now()
    this.statements.append.run(
      entry.revision,
      entry.type,
      entry.name,
      entry.prefix,
      entry.mode,
      entry.source,
      time,
      entry.actor,
      entry.requestId,
      entry.rollbackOf ?? null,
      entry.force ? 1 : 0,
    )
    const cutoff = time - this.retention.days * DAY_MS
    const gone = this.statements.drop.all(entry.name, cutoff, this.retention.keep) as { revision: number }[]
    if (gone.length === 0) return
    const revisions = gone.map((row) => Number(row.revision))
    this.statements.recordCompaction.run(entry.name, Math.min(...revisions), Math.max(...revisions))
  }

  page(name: string, query: HistoryQuery): SchemaHistoryPage {
    const before = query.before ?? Number.MAX_SAFE_INTEGER
    const rows = this.statements.page.all(name, before, query.limit + 1) as unknown as SchemaHistoryRow[]
    if (rows.length === 0 && !this.known(name)) throw new SchemaNotFoundError(name)
    return { entries: rows.slice(0, query.limit).map(historyEntryOf), more: rows.length > query.limit }
  }

  stateAt(name: string, revision: number): StoredSchema | undefined {
    const entry = this.statements.latestAt.get(name, revision) as unknown as SchemaHistoryRow | undefined | null
    const compaction = this.statements.compaction.get(name) as Compaction | undefined | null
    const oldest = compaction ? (this.statements.oldestKept.get(name) as { revision: number | null }) : null
    return schemaStateAt({
      name,
      revision,
      entry: entry ?? undefined,
      dropped: compaction
        ? { first: Number(compaction.first_dropped), through: Number(compaction.dropped_through) }
        : undefined,
      oldestKept: oldest?.revision == null ? undefined : Number(oldest.revision),
    })
  }

  changesAfter(after: number, limit: number): SchemaChangePage {
    const row = this.statements.droppedThrough.get() as { through: number | null } | null
    const through = Number(row?.through ?? 0)
    if (after < through) throw new HistoryCompactedError(after, through)
    const rows = this.statements.after.all(after, limit + 1) as unknown as SchemaHistoryRow[]
    return { events: rows.slice(0, limit).map(changeEventOf), more: rows.length > limit }
  }

  private known(name: string): boolean {
    return Boolean(this.statements.latestAt.get(name, Number.MAX_SAFE_INTEGER) ?? this.statements.compaction.get(name))
  }
}
