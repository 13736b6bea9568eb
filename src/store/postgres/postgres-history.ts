/**
 * The history of the PostgreSQL store: as on SQLite, the `events` table is the history (each
 * write's one event row carries when, who and the request id), so history is shared by every
 * replica and written in the write's own transaction.
 *
 * Retention works on a chunk of configs per statement (a few round trips per chunk, whatever its
 * size). A replica prunes the configs it wrote; two replicas pruning the same config delete the
 * same rows, which the database hands to one of them. Dropped ranges are recorded per config
 * (`history_compaction`) and the newest dropped revision in `store_state.compacted_through`,
 * where watch replay and the change feed see it.
 */
import type { Sql, TransactionSql } from 'postgres'
import {
  type ChangeType,
  type HistoryPage,
  type HistoryQuery,
  NotFoundError,
  type RetentionPolicy,
  type StoredConfig,
} from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'
import { checkRevisionReached } from '../../configs/revision-rules.ts'
import { writeDetailsOf } from '../change-event.ts'
import { stateAt } from '../history-state.ts'
import type { RetentionTarget } from '../retention.ts'

const DAY_MS = 86_400_000

interface HistoryOptions {
  retention: RetentionPolicy
  /** WATCH_HISTORY_SIZE: the newest writes of the store that stay, whatever their config and age. */
  historySize: number
  now: () => number
}

type EntryRow = {
  revision: string
  type: ChangeType
  body: string
  time_ms: number
  actor: string
  request_id: string
  rollback_of: string | null
  rollout: string | null
}

export class PostgresHistory {
  /** Entries dropped by retention through this handle. */
  dropped = 0

  constructor(
    private readonly sql: Sql,
    private readonly options: HistoryOptions,
  ) {}

  /** What schema history keeps too (postgres-schema-history.ts). */
  get retention(): RetentionPolicy {
    return this.options.retention
  }

  async page(dcname: string, query: HistoryQuery): Promise<HistoryPage> {
    const before = query.before ?? Number.MAX_SAFE_INTEGER
    const rows = await this.sql<EntryRow[]>`
      SELECT revision, type, body::text, (extract(epoch FROM time) * 1000)::float8 AS time_ms, actor, request_id, rollback_of, rollout
      FROM events WHERE dcname = ${dcname} AND revision < ${before}
      ORDER BY revision DESC LIMIT ${query.limit + 1}`
    if (rows.length === 0 && !(await this.known(dcname))) throw new NotFoundError(dcname)
    return {
      entries: rows.slice(0, query.limit).map((row) => ({
        revision: Number(row.revision),
        type: row.type,
        time: new Date(Math.round(row.time_ms)).toISOString(),
        actor: row.actor,
        ...writeDetailsOf(row),
        config: JSON.parse(row.body) as Config,
      })),
      more: rows.length > query.limit,
    }
  }

  /**
   * See ConfigStore.getAt; `sql` may be a write's transaction (a rollback reads it there, where
   * the store's revision already counts the write itself, after checkRollback has checked).
   */
  async stateAt(sql: Sql | TransactionSql, dcname: string, revision: number): Promise<StoredConfig | undefined> {
    const [row] = await sql<
      {
        revision: string | null
        type: ChangeType | null
        body: string | null
        first_dropped: string | null
        dropped_through: string | null
        oldest: string | null
        store_revision: string
      }[]
    >`
      SELECT e.revision, e.type, e.body::text, c.first_dropped, c.dropped_through,
             (SELECT min(revision) FROM events WHERE dcname = ${dcname}) AS oldest,
             (SELECT revision FROM store_state) AS store_revision
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (
        SELECT revision, type, body FROM events WHERE dcname = ${dcname} AND revision <= ${revision}
        ORDER BY revision DESC LIMIT 1
      ) e ON true
      LEFT JOIN history_compaction c ON c.dcname = ${dcname}`
    checkRevisionReached(revision, Number(row?.store_revision ?? 0))
    return stateAt({
      dcname,
      revision,
      entry:
        row?.revision != null && row.type && row.body != null
          ? { revision: Number(row.revision), type: row.type, body: row.body }
          : undefined,
      dropped:
        row?.first_dropped != null
          ? { first: Number(row.first_dropped), through: Number(row.dropped_through) }
          : undefined,
      oldestKept: row?.oldest == null ? undefined : Number(row.oldest),
    })
  }

  async count(): Promise<number> {
    const [row] = await this.sql<{ n: number }[]>`SELECT count(*)::float8 AS n FROM events`
    return row?.n ?? 0
  }

  /** What the retention schedule runs against this store. */
  retentionTarget(): RetentionTarget {
    return {
      prune: (dcnames) => this.prune(dcnames),
      overKeep: async () => {
        const rows = await this.sql<{ dcname: string }[]>`
          SELECT dcname FROM events GROUP BY dcname HAVING count(*) > ${this.options.retention.keep}`
        return rows.map((row) => row.dcname)
      },
    }
  }

  /**
   * Drops what retention allows of `dcnames`; returns those still holding more than `keep`
   * entries. Names travel as one JSON text: the client sends no arrays without the types it is
   * told not to fetch.
   */
  private async prune(dcnames: string[]): Promise<string[]> {
    const over = await this.overKeep(dcnames)
    if (over.length === 0) return []
    const { keep, days } = this.options.retention
    const cutoff = this.options.now() - days * DAY_MS
    const [row] = await this.sql<{ dropped: number }[]>`
      WITH bounds AS (
        SELECT n.dcname, least(k.revision - 1, s.revision - ${this.options.historySize}) AS through
        FROM json_array_elements_text(${JSON.stringify(over)}::text::json) AS n(dcname)
        CROSS JOIN store_state s
        CROSS JOIN LATERAL (
          SELECT revision FROM events e WHERE e.dcname = n.dcname ORDER BY revision DESC OFFSET ${keep - 1} LIMIT 1
        ) k
        -- Only where the oldest entry is old enough (one index probe): entries are written in
        -- revision order with the time of their write, so when it is too young, so are the rest,
        -- and the delete below does not read a write-hot config's whole history on every pass.
        WHERE (SELECT o.time FROM events o WHERE o.dcname = n.dcname ORDER BY o.revision LIMIT 1)
          <= to_timestamp(${cutoff}::float8 / 1000)
      ),
      gone AS (
        DELETE FROM events e USING bounds b
        WHERE e.dcname = b.dcname AND e.revision <= b.through AND e.time <= to_timestamp(${cutoff}::float8 / 1000)
        RETURNING e.dcname, e.revision
      ),
      per AS (SELECT dcname, min(revision) AS first, max(revision) AS last, count(*) AS n FROM gone GROUP BY dcname),
      recorded AS (
        INSERT INTO history_compaction (dcname, first_dropped, dropped_through)
        SELECT dcname, first, last FROM per
        ON CONFLICT (dcname) DO UPDATE SET
          first_dropped = least(history_compaction.first_dropped, excluded.first_dropped),
          dropped_through = greatest(history_compaction.dropped_through, excluded.dropped_through)
      ),
      state AS (
        UPDATE store_state SET compacted_through = greatest(compacted_through, (SELECT max(last) FROM per))
        WHERE EXISTS (SELECT 1 FROM per)
      )
      SELECT coalesce(sum(n), 0)::float8 AS dropped FROM per`
    this.dropped += row?.dropped ?? 0
    return this.overKeep(over)
  }

  /** Those of `dcnames` holding more than `keep` entries. */
  private async overKeep(dcnames: string[]): Promise<string[]> {
    const rows = await this.sql<{ dcname: string }[]>`
      SELECT n.dcname
      FROM json_array_elements_text(${JSON.stringify(dcnames)}::text::json) AS n(dcname)
      CROSS JOIN LATERAL (
        SELECT revision FROM events e WHERE e.dcname = n.dcname
        ORDER BY revision DESC OFFSET ${this.options.retention.keep - 1} LIMIT 1
      ) k
      WHERE EXISTS (SELECT 1 FROM events o WHERE o.dcname = n.dcname AND o.revision < k.revision)`
    return rows.map((row) => row.dcname)
  }

  private async known(dcname: string): Promise<boolean> {
    const [row] = await this.sql<{ known: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM events WHERE dcname = ${dcname})
          OR EXISTS (SELECT 1 FROM history_compaction WHERE dcname = ${dcname}) AS known`
    return row?.known ?? false
  }
}
