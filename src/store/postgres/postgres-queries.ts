/**
 * The SQL of the PostgreSQL store, one function per statement. Bodies are read as text and
 * parsed by the store, whatever type parsers the client has set up.
 */
import type { Sql } from 'postgres'
import {
  type ChangePageQuery,
  type ChangeType,
  type Filter,
  type ListQuery,
  prefixRange,
  type StoredConfig,
  type WriteMeta,
} from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'
import type { SchemaRow } from '../../configs/schema-model.ts'
import type { CurrentConfig } from '../../configs/write-rules.ts'
import { CHANGES_CHANNEL } from './postgres-changes.ts'
import { isAbortedTransaction } from './postgres-errors.ts'
import { selectGoverningSchema } from './postgres-schema-queries.ts'

export type Row = { body: string; revision: string }
/** The revision a write takes, and the schema that governs it then (config writes). */
export type Slot = { revision: number; schema?: SchemaRow }
/** A row of a page of events (see changePageOf); all but compacted_through are null when there is none. */
export type PageRow = {
  compacted_through: string
  type: ChangeType
  body: string | null
  previous: string | null
  revision: string | null
  rollback_of: string | null
  rollout: string | null
  fits: boolean | null
}

export function toStored(row: Row): StoredConfig {
  return { config: JSON.parse(row.body) as Config, revision: Number(row.revision) }
}

export async function selectConfig(sql: Sql, dcname: string): Promise<Row | undefined> {
  const [row] = await sql<Row[]>`SELECT body::text, revision FROM configs WHERE dcname = ${dcname}`
  return row
}

/** One statement, one snapshot: the page and its revision agree. */
export async function selectPage(sql: Sql, query: ListQuery) {
  return sql<(Row & { store_revision: string; dcname: string | null })[]>`
    SELECT s.revision AS store_revision, c.dcname, c.body::text, c.revision
    FROM store_state s
    LEFT JOIN LATERAL (
      SELECT dcname, body, revision FROM configs
      WHERE ${conditions(sql, query)}
      ORDER BY dcname LIMIT ${query.limit + 1}
    ) c ON true
    ORDER BY c.dcname`
}

export async function countConfigs(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::integer AS n FROM configs`
  return row?.n ?? 0
}

/**
 * One page of the events after `query.after` (see changePageOf for its rows), with the revision
 * up to which replay has no history: the newest one retention dropped, or the oldest of the
 * newest `historySize` writes (WATCH_HISTORY_SIZE bounds replay, as it always did), whichever is
 * newer. One statement, one snapshot.
 */
export async function selectChangesAfter(sql: Sql, query: ChangePageQuery, historySize: number): Promise<PageRow[]> {
  const { after, limit, bytes } = query
  // Sizes first (octet_length reads a stored value's size without fetching it), then the
  // bodies of the rows that fit.
  return sql<PageRow[]>`
    SELECT greatest(s.compacted_through, s.revision - ${historySize}, 0) AS compacted_through,
           p.type, p.revision, p.fits, p.rollback_of, p.rollout,
           CASE WHEN p.fits THEN p.body::text END AS body, CASE WHEN p.fits THEN p.previous::text END AS previous
    FROM store_state s
    LEFT JOIN LATERAL (
      SELECT e.type, e.revision, e.body, e.previous, e.rollback_of, e.rollout, w.fits FROM (
        SELECT revision, (upto <= ${bytes} OR n = 1) AS fits FROM (
          SELECT revision, size, sum(size) OVER w AS upto, row_number() OVER w AS n FROM (
            SELECT revision, octet_length(body::text) + coalesce(octet_length(previous::text), 0) AS size
            FROM events WHERE revision > ${after} ORDER BY revision LIMIT ${limit + 1}
          ) l
          WINDOW w AS (ORDER BY revision)
        ) u
        WHERE upto - size <= ${bytes} OR n <= 2
      ) w
      JOIN events e ON e.revision = w.revision
    ) p ON true
    ORDER BY p.revision`
}

export async function currentRevision(sql: Sql): Promise<number> {
  const [row] = await sql<{ revision: string }[]>`SELECT revision FROM store_state`
  return Number(row?.revision ?? 0)
}

/**
 * The write lock, the config, and the schema governing its dcname, pipelined: the reads run after
 * the lock is held, so they see every write committed before it (schema writes included).
 */
export async function lockAndRead(
  tx: Sql,
  dcname: string,
): Promise<{ slot: Slot; current: CurrentConfig | undefined }> {
  // Sent in this order, each as soon as it is made.
  const lock = nextRevision(tx)
  const reads = Promise.allSettled([
    tx<Row[]>`SELECT body::text, revision FROM configs WHERE dcname = ${dcname} FOR UPDATE`,
    selectGoverningSchema(tx, dcname),
  ])
  // When the lock fails (a statement timeout, a lost connection), the reads fail only because
  // they came after it, and on a lost connection the client may never settle them: not awaited.
  const slot = await lock
  const [rows, schema] = await reads
  if (rows.status === 'fulfilled' && schema.status === 'fulfilled') {
    const row = rows.value[0]
    return {
      slot: { ...slot, schema: schema.value },
      current: row && { body: row.body, revision: Number(row.revision) },
    }
  }
  // The server may refuse either read first (a dcname it cannot take, say); the other one then
  // fails only as "transaction aborted", which is not the cause to report.
  const failed = [rows, schema].flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
  throw failed.find((error) => !isAbortedTransaction(error)) ?? failed[0]
}

/** A slot outside lockAndRead (the seed): the revision, then the schema read under its lock. */
export async function slotFor(tx: Sql, dcname: string): Promise<Slot> {
  const { revision } = await nextRevision(tx)
  return { revision, schema: await selectGoverningSchema(tx, dcname) }
}

export async function nextRevision(tx: Sql): Promise<Slot> {
  const [row] = await tx<{ revision: string }[]>`
    UPDATE store_state SET revision = revision + 1 RETURNING revision`
  if (!row) throw new Error('store_state has no row: the schema is not migrated')
  return { revision: Number(row.revision) }
}

/**
 * Stores the config, appends its event (which is its history entry: when, who, which request),
 * and notifies: one statement. A MODIFIED event keeps the state it replaces, copied in SQL:
 * every part of the statement sees the configs table as it was before the statement.
 */
export async function putConfig(
  tx: Sql,
  slot: Slot,
  type: ChangeType,
  config: Config,
  meta: WriteMeta,
  timeMs: number,
): Promise<void> {
  // Sent as text: given a json parameter, the client would stringify the string once more.
  const body = JSON.stringify(config)
  const previous = type === 'MODIFIED' ? tx`(SELECT body FROM configs WHERE dcname = ${config.dcname})` : tx`NULL::json`
  await tx`
    WITH stored AS (
      INSERT INTO configs (dcname, body, revision) VALUES (${config.dcname}, ${body}::text::json, ${slot.revision})
      ON CONFLICT (dcname) DO UPDATE SET body = excluded.body, revision = excluded.revision
    ),
    event AS (
      INSERT INTO events (revision, type, dcname, body, previous, time, actor, request_id, rollback_of, rollout)
      VALUES (${slot.revision}, ${type}, ${config.dcname}, ${body}::text::json, ${previous},
              to_timestamp(${timeMs}::float8 / 1000), ${meta.actor}, ${meta.requestId}, ${meta.rollbackOf ?? null},
              ${meta.rollout ?? null})
    )
    SELECT pg_notify(${CHANGES_CHANNEL}, ${String(slot.revision)})`
}

/** Deletes the config, appends its DELETED event, and notifies. */
export async function deleteConfig(
  tx: Sql,
  slot: Slot,
  dcname: string,
  meta: WriteMeta,
  timeMs: number,
): Promise<void> {
  // The DELETED event carries the last state, copied in SQL so its text is kept exactly.
  await tx`
    WITH gone AS (DELETE FROM configs WHERE dcname = ${dcname} RETURNING dcname, body),
    event AS (
      INSERT INTO events (revision, type, dcname, body, time, actor, request_id)
      SELECT ${slot.revision}, 'DELETED', dcname, body,
             to_timestamp(${timeMs}::float8 / 1000), ${meta.actor}, ${meta.requestId} FROM gone
    )
    SELECT pg_notify(${CHANGES_CHANNEL}, ${String(slot.revision)})`
}

function conditions(sql: Sql, query: ListQuery) {
  const parts = [sql`true`]
  if (query.after !== undefined) parts.push(sql`dcname > ${query.after}`)
  if (query.prefixes !== undefined) parts.push(withinPrefixes(sql, query.prefixes))
  for (const filter of query.filters) parts.push(matches(sql, filter))
  return parts.reduce((all, part) => sql`${all} AND ${part}`)
}

/**
 * Ranges of the primary key (see prefixRange). The column is COLLATE "C", so the comparisons
 * are byte order, as SQLite's, and not the database's locale (where '-' may sort as nothing).
 */
function withinPrefixes(sql: Sql, prefixes: readonly string[]) {
  const ranges = prefixes.map(prefixRange)
  const each = ranges.map(({ from, to }) =>
    to === undefined ? sql`dcname >= ${from}` : sql`(dcname >= ${from} AND dcname < ${to})`,
  )
  return each.length === 0 ? sql`false` : sql`(${each.reduce((all, part) => sql`${all} OR ${part}`)})`
}

/**
 * As in the SQLite store: a scalar leaf matches when its JSON text equals the value, a string
 * leaf when its content does (so `true` matches both true and "true"); objects and arrays never.
 */
function matches(sql: Sql, filter: Filter) {
  if (filter.path.length === 1 && filter.path[0] === 'dcname') return sql`dcname = ${filter.value}`
  const path = textArray(filter.path)
  const leaf = sql`(CASE json_typeof(body #> ${path}::text[])
    WHEN 'string' THEN (body #>> ${path}::text[]) = ${filter.value}
    WHEN 'object' THEN false WHEN 'array' THEN false
    ELSE (body #> ${path}::text[])::text = ${filter.value} END)`
  // `#>` would index into an array with a numeric segment; SQLite and the watch filter walk
  // objects only, so each parent that such a segment steps into must be an object here too.
  return filter.path
    .map((segment, i) => ({ segment, parent: filter.path.slice(0, i) }))
    .filter(({ segment, parent }) => parent.length > 0 && /^-?\d+$/.test(segment))
    .reduce((all, { parent }) => sql`${all} AND json_typeof(body #> ${textArray(parent)}::text[]) = 'object'`, leaf)
}

/** A PostgreSQL array literal; segments are quoted so '-' and the like stay literal. */
function textArray(segments: string[]): string {
  return `{${segments.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`
}
