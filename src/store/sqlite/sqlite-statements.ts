/** The statements of the SQLite store's configs and events (history ones: sqlite-history.ts). */
import type { ChangeType, StoredConfig } from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'
import type { SqliteDatabase } from './sqlite-driver.ts'

export type Row = { body: string; revision: number }
export type EventRow = {
  type: ChangeType
  body: string
  previous: string | null
  revision: number
  rollback_of: number | null
  rollout: string | null
}
export type PageRow = Omit<EventRow, 'body'> & { body: string | null; fits: number }

export function prepareStatements(db: SqliteDatabase) {
  return {
    get: db.prepare('SELECT body, revision FROM configs WHERE dcname = ?'),
    count: db.prepare('SELECT count(*) AS n FROM configs'),
    upsert: db.prepare(
      `INSERT INTO configs (dcname, body, revision) VALUES (?, ?, ?)
       ON CONFLICT (dcname) DO UPDATE SET body = excluded.body, revision = excluded.revision`,
    ),
    remove: db.prepare('DELETE FROM configs WHERE dcname = ?'),
    appendEvent: db.prepare(
      `INSERT INTO events (type, dcname, body, previous, time, actor, request_id, rollback_of, rollout)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING revision`,
    ),
    // A page of events (see changePageOf): sizes first, from the record headers (octet_length
    // loads no body), then the bodies of the rows that fit.
    changesAfter: db.prepare(
      `SELECT e.type, e.revision, w.fits, e.rollback_of, e.rollout,
              CASE WHEN w.fits THEN e.body END AS body, CASE WHEN w.fits THEN e.previous END AS previous
       FROM (
         SELECT revision, (upto <= ?3 OR n = 1) AS fits FROM (
           SELECT revision, size, sum(size) OVER w AS upto, row_number() OVER w AS n FROM (
             SELECT revision, octet_length(body) + ifnull(octet_length(previous), 0) AS size
             FROM events WHERE revision > ?1 ORDER BY revision LIMIT ?2)
           WINDOW w AS (ORDER BY revision))
         WHERE upto - size <= ?3 OR n <= 2) w
       JOIN events e ON e.revision = w.revision
       ORDER BY e.revision`,
    ),
    currentRevision: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    ping: db.prepare('SELECT 1 AS ok'),
  }
}

export function toStored(row: Row): StoredConfig {
  return { config: JSON.parse(row.body) as Config, revision: Number(row.revision) }
}

/** One history entry as the events table stores it; the table gives it the next revision. */
interface EventEntry {
  type: ChangeType
  dcname: string
  body: string
  /** The state a MODIFIED write replaced. */
  previous: string | undefined
  time: number
  actor: string
  requestId: string
  rollbackOf?: number
  rollout?: string
}

export function appendEvent(statements: ReturnType<typeof prepareStatements>, entry: EventEntry): number {
  const { type, dcname, body, previous, time, actor, requestId, rollbackOf, rollout } = entry
  const row = statements.appendEvent.get(
    type,
    dcname,
    body,
    previous ?? null,
    time,
    actor,
    requestId,
    rollbackOf ?? null,
    rollout ?? null,
  )
  return Number((row as { revision: number }).revision)
}
