/**
 * The statements of a batch of config writes (config-writes.ts): the write lock and every
 * config and governing schema the batch names, read in one round trip; then every put and
 * delete of the batch, its events, the counter and the notification in one statement. The
 * per-write statements are in postgres-queries.ts.
 */
import type { Sql } from 'postgres'
import type { ChangeType, WriteMeta } from '../../configs/config-store.ts'
import type { SchemaRow } from '../../configs/schema-model.ts'
import type { CurrentConfig } from '../../configs/write-rules.ts'
import { CHANGES_CHANNEL } from './postgres-changes.ts'
import { isAbortedTransaction } from './postgres-errors.ts'

/**
 * A PostgreSQL array literal of `values`, sent as text and cast in SQL: the client serializes
 * arrays only when it has fetched the types' oids, which the store's clients do not
 * (postgres-connect.ts). Every element quoted, so commas, braces and 'NULL' stay text.
 */
export function arrayLiteral(values: readonly (string | null)[]): string {
  return `{${values.map((value) => (value === null ? 'NULL' : `"${value.replace(/["\\]/g, '\\$&')}"`)).join(',')}}`
}

/** What a batch found under the write lock: the newest revision, and per dcname its config and schema. */
export interface BatchReads {
  revision: number
  current: Map<string, CurrentConfig>
  schemas: Map<string, SchemaRow>
}

type SchemaRecord = {
  dcname: string
  name: string
  prefix: string
  mode: SchemaRow['mode']
  source: string
  revision: string
}

/**
 * The write lock, then the configs and governing schemas of `dcnames`, pipelined as in
 * lockAndRead: the reads run once the lock is held, so they see every write committed before.
 */
export async function lockAndReadMany(tx: Sql, dcnames: readonly string[]): Promise<BatchReads> {
  const names = arrayLiteral(dcnames)
  // Sent in this order, each as soon as it is made (a query is sent when first awaited: the
  // lock is, inside lockStore, before the reads are made).
  const lock = lockStore(tx)
  const reads = Promise.allSettled([
    tx<{ dcname: string; body: string; revision: string }[]>`
      SELECT dcname, body::text, revision FROM configs WHERE dcname = ANY(${names}::text[]) FOR UPDATE`,
    // The longest prefix wins, per dcname; there are few schemas, so a scan each.
    tx<SchemaRecord[]>`
      SELECT d.dcname, s.name, s.prefix, s.mode, s.source, s.revision
      FROM unnest(${names}::text[]) AS d(dcname)
      CROSS JOIN LATERAL (
        SELECT name, prefix, mode, source, revision FROM schemas
        WHERE left(d.dcname, length(prefix)) = prefix ORDER BY length(prefix) DESC LIMIT 1
      ) s`,
  ])
  // As in lockAndRead: on a failed lock the reads are not awaited (a lost connection may never settle them).
  const revision = await lock
  const [rows, schemas] = await reads
  if (rows.status === 'fulfilled' && schemas.status === 'fulfilled') {
    return {
      revision,
      current: new Map(rows.value.map((row) => [row.dcname, { body: row.body, revision: Number(row.revision) }])),
      schemas: new Map(
        schemas.value.map(({ dcname, revision, ...schema }) => [dcname, { ...schema, revision: Number(revision) }]),
      ),
    }
  }
  const failed = [rows, schemas].flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
  throw failed.find((error) => !isAbortedTransaction(error)) ?? failed[0]
}

/** The store-wide write lock (as nextRevision takes it), and the newest revision committed. */
async function lockStore(tx: Sql): Promise<number> {
  const [row] = await tx<{ revision: string }[]>`UPDATE store_state SET revision = revision RETURNING revision`
  if (!row) throw new Error('store_state has no row: the schema is not migrated')
  return Number(row.revision)
}

/** One write of a batch, its revision taken (consecutive within the batch, in queue order). */
export interface BatchPut {
  revision: number
  type: ChangeType
  dcname: string
  /** The stored JSON text; for DELETED, the last state (the event keeps it). */
  body: string
  /** For MODIFIED, the state it replaces, as stored. */
  previous: string | null
  meta: WriteMeta
}

/**
 * Stores a batch's writes: each dcname's last state (a put or a delete), every write's event
 * (its history entry), the counter at the newest revision, one notification. One statement:
 * every part of it sees the tables as they were before it, so no row is written twice.
 */
export async function putMany(tx: Sql, puts: readonly BatchPut[], timeMs: number): Promise<void> {
  const newest = puts.reduce((max, put) => Math.max(max, put.revision), 0)
  const column = (of: (put: BatchPut) => string | number | null | undefined) =>
    arrayLiteral(
      puts.map((put) => {
        const value = of(put)
        return value === undefined || value === null ? null : String(value)
      }),
    )
  await tx`
    WITH w AS (
      SELECT * FROM unnest(
        ${column((p) => p.revision)}::bigint[], ${column((p) => p.type)}::text[], ${column((p) => p.dcname)}::text[],
        ${column((p) => p.body)}::text[], ${column((p) => p.previous)}::text[], ${column((p) => p.meta.actor)}::text[],
        ${column((p) => p.meta.requestId)}::text[], ${column((p) => p.meta.rollbackOf)}::bigint[],
        ${column((p) => p.meta.rollout)}::text[]
      ) AS w(revision, type, dcname, body, previous, actor, request_id, rollback_of, rollout)
    ),
    last AS (SELECT DISTINCT ON (dcname) dcname, type, body, revision FROM w ORDER BY dcname, revision DESC),
    stored AS (
      INSERT INTO configs (dcname, body, revision)
      SELECT dcname, body::json, revision FROM last WHERE type <> 'DELETED'
      ON CONFLICT (dcname) DO UPDATE SET body = excluded.body, revision = excluded.revision
    ),
    gone AS (DELETE FROM configs c USING last l WHERE l.type = 'DELETED' AND c.dcname = l.dcname),
    event AS (
      INSERT INTO events (revision, type, dcname, body, previous, time, actor, request_id, rollback_of, rollout)
      SELECT revision, type, dcname, body::json, previous::json, to_timestamp(${timeMs}::float8 / 1000),
             actor, request_id, rollback_of, rollout
      FROM w
    ),
    counter AS (UPDATE store_state SET revision = ${newest})
    SELECT pg_notify(${CHANGES_CHANNEL}, ${String(newest)})`
}
