/**
 * The SQLite schema, as numbered migrations applied on open, as the PostgreSQL store does: the
 * versions applied are kept in `schema_migrations`, and the pending ones run in one IMMEDIATE
 * transaction, so a second process opening the same file waits and then finds nothing to do.
 * DDL is transactional in SQLite too: a migration that fails leaves no half-made schema behind.
 *
 * Databases made before this table existed had the same tables, created by statements that ran
 * on every open; migrations 1 and 2 are those statements (`IF NOT EXISTS`), so such a database
 * is adopted as it is, its configs, events and seeded mark kept.
 */
import type { SqliteDatabase } from './sqlite-driver.ts'

interface SqliteMigration {
  version: number
  description: string
  statements: string[]
  /** What SQL alone cannot do, run after the statements in the same transaction. */
  run?: (db: SqliteDatabase) => void
}

/** Append only: a released migration is never edited, a new one is added after it. */
export const MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    description: 'configs, the bounded event history (whose sequence is the store revision), and meta',
    statements: [
      `CREATE TABLE IF NOT EXISTS configs (
         dcname TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         revision INTEGER NOT NULL
       ) WITHOUT ROWID`,
      // AUTOINCREMENT: a revision is never reused, even once the history holding it is pruned.
      `CREATE TABLE IF NOT EXISTS events (
         revision INTEGER PRIMARY KEY AUTOINCREMENT,
         type TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
         dcname TEXT NOT NULL,
         body TEXT NOT NULL
       )`,
      `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`,
    ],
  },
  {
    version: 2,
    description: 'the filter index: every scalar metadata leaf, as filters compare it',
    statements: [
      `CREATE TABLE IF NOT EXISTS leaves (
         path TEXT NOT NULL,
         value TEXT NOT NULL,
         dcname TEXT NOT NULL,
         PRIMARY KEY (path, value, dcname)
       ) WITHOUT ROWID`,
      // Old leaves are removed by their exact keys (from the old body): no second index to keep up.
      'DROP INDEX IF EXISTS leaves_by_dcname',
      // Where earlier builds recorded which version of the index they built: now this table's job.
      "DELETE FROM meta WHERE key = 'leaves'",
    ],
    // It also filled the table from every config; migration 5 drops the table, so a database that
    // still lacks both now skips that work and ends in the same schema.
  },
  {
    version: 3,
    description: 'events keep the state before a MODIFIED write, for exact filtered replays',
    // Nullable: older MODIFIED events have none; a filtered replay across one answers 410 (see WatchHub).
    statements: ['ALTER TABLE events ADD COLUMN previous TEXT'],
  },
  {
    version: 4,
    description: 'history: events become history entries (time, actor, request id), kept per config',
    statements: [
      // Time in ms since the epoch. Events written before this migration get the time of the
      // upgrade (they are at least that old) and the actor `unknown`.
      'ALTER TABLE events ADD COLUMN time INTEGER NOT NULL DEFAULT 0',
      "ALTER TABLE events ADD COLUMN actor TEXT NOT NULL DEFAULT 'unknown'",
      "ALTER TABLE events ADD COLUMN request_id TEXT NOT NULL DEFAULT ''",
      // One config's history, newest first, and retention's per-config probes.
      'CREATE INDEX IF NOT EXISTS events_by_dcname ON events (dcname, revision)',
      // Per config, the range of revisions retention dropped (see sqlite-history.ts).
      `CREATE TABLE IF NOT EXISTS history_compaction (
         dcname TEXT PRIMARY KEY,
         first_dropped INTEGER NOT NULL,
         dropped_through INTEGER NOT NULL
       ) WITHOUT ROWID`,
    ],
    run: (db) => adoptEvents(db, Date.now()),
  },
  {
    version: 5,
    description: 'no filter index: metadata filters scan the configs, searches are answered from memory',
    statements: [
      // Keeping it up was most of the SQL work of every write, while the read model answers
      // searches; the store's own filtered list scans the configs (list-scan.ts).
      'DROP TABLE IF EXISTS leaves',
      // Builds from before this migration need the table: they stop at open, on "no such table:
      // leaves". Builds from now on read this mark (checkUsable); a later migration that removes
      // what they use raises it, and they refuse the database in one line naming the versions.
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('oldest_usable_schema', '5')",
    ],
  },
  {
    version: 6,
    description: 'history entries of rollbacks name the revision they restored',
    // Nullable: every other write has none. Builds before it write none and read on unchanged.
    statements: ['ALTER TABLE events ADD COLUMN rollback_of INTEGER'],
  },
  {
    version: 7,
    description: 'config schemas: a JSON Schema per dcname prefix, at most one per prefix',
    statements: [
      // `source`: the schema as JSON text, as written; `revision`: taken from the events sequence.
      `CREATE TABLE IF NOT EXISTS schemas (
         name TEXT PRIMARY KEY,
         prefix TEXT NOT NULL UNIQUE,
         mode TEXT NOT NULL CHECK (mode IN ('enforce', 'warn')),
         source TEXT NOT NULL,
         revision INTEGER NOT NULL
       ) WITHOUT ROWID`,
    ],
  },
  {
    version: 8,
    description: 'schema history: every schema write keeps the state it left, who and when',
    statements: [
      // One row per schema write (its revision is the store revision it took); for DELETED the
      // last state. `time` in ms since the epoch, as events'.
      `CREATE TABLE IF NOT EXISTS schema_history (
         revision INTEGER PRIMARY KEY,
         type TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
         name TEXT NOT NULL,
         prefix TEXT NOT NULL,
         mode TEXT NOT NULL,
         source TEXT NOT NULL,
         time INTEGER NOT NULL,
         actor TEXT NOT NULL,
         request_id TEXT NOT NULL DEFAULT '',
         rollback_of INTEGER,
         forced INTEGER NOT NULL DEFAULT 0
       )`,
      'CREATE INDEX IF NOT EXISTS schema_history_by_name ON schema_history (name, revision)',
      // Per schema, the range of revisions retention dropped (see sqlite-schema-history.ts).
      `CREATE TABLE IF NOT EXISTS schema_history_compaction (
         name TEXT PRIMARY KEY,
         first_dropped INTEGER NOT NULL,
         dropped_through INTEGER NOT NULL
       ) WITHOUT ROWID`,
    ],
    // Schemas stored before it get their present state as their oldest entry; what came before
    // is unknown, so it counts as dropped (a read there answers 410, not 404).
    run: (db) => {
      db.prepare(
        `INSERT INTO schema_history (revision, type, name, prefix, mode, source, time, actor)
         SELECT revision, 'MODIFIED', name, prefix, mode, source, ?, 'unknown' FROM schemas`,
      ).run(Date.now())
      db.exec(
        `INSERT INTO schema_history_compaction (name, first_dropped, dropped_through)
         SELECT name, 1, revision - 1 FROM schemas WHERE revision > 1`,
      )
    },
  },
  {
    version: 9,
    description: 'rollouts, each one versioned document; history entries name the rollout that wrote them',
    statements: [
      // Nullable: writes no rollout made have none.
      'ALTER TABLE events ADD COLUMN rollout TEXT',
      // `seq`: creation order, for newest-first pages; `version`: each save's check (rollout-store.ts).
      `CREATE TABLE IF NOT EXISTS rollouts (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         id TEXT NOT NULL UNIQUE,
         status TEXT NOT NULL,
         version INTEGER NOT NULL,
         body TEXT NOT NULL
       )`,
      'CREATE INDEX IF NOT EXISTS rollouts_by_status ON rollouts (status, seq)',
    ],
  },
  {
    version: 10,
    description: 'rollout event log: each timeline entry numbered, for watches that resume with since',
    statements: [
      // `seq`: one sequence for every rollout, in commit order; `status` and `wave`: the rollout's once saved.
      `CREATE TABLE IF NOT EXISTS rollout_events (
         seq INTEGER PRIMARY KEY,
         rollout_id TEXT NOT NULL,
         status TEXT NOT NULL,
         wave INTEGER NOT NULL,
         entry TEXT NOT NULL
       )`,
      // Entries saved before the log have seq 0: logged never, and never taken for new ones.
      `UPDATE rollouts SET body = json_set(body, '$.timeline', json(
         (SELECT coalesce(json_group_array(json_set(t.value, '$.seq', 0)), '[]')
          FROM json_each(rollouts.body, '$.timeline') t)))`,
    ],
  },
]

/**
 * Before history, the events table was trimmed to the newest WATCH_HISTORY_SIZE writes: what
 * was trimmed is recorded as dropped, a config left with no event gets its current state as its
 * oldest entry, and a read at an older revision of such a config answers "compacted".
 */
function adoptEvents(db: SqliteDatabase, now: number): void {
  db.prepare('UPDATE events SET time = ?').run(now)
  const oldest = db.prepare('SELECT min(revision) AS revision FROM events').get() as { revision: number | null }
  const sequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | null
  const trimmedThrough = oldest.revision != null ? Number(oldest.revision) - 1 : Number(sequence?.seq ?? 0)
  if (trimmedThrough <= 0) return
  db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('history_dropped_through', ?)").run(
    String(trimmedThrough),
  )
  db.prepare(
    `INSERT INTO events (revision, type, dcname, body, time)
     SELECT c.revision, 'MODIFIED', c.dcname, c.body, ? FROM configs c
     WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.dcname = c.dcname)`,
  ).run(now)
  db.prepare(
    `INSERT INTO history_compaction (dcname, first_dropped, dropped_through)
     SELECT dcname, 1, min(?, min(revision) - 1) FROM events GROUP BY dcname HAVING min(?, min(revision) - 1) >= 1`,
  ).run(trimmedThrough, trimmedThrough)
}

/** Applies the migrations this database lacks; returns their versions. */
export function migrate(db: SqliteDatabase, migrations: readonly SqliteMigration[] = MIGRATIONS): number[] {
  db.exec('BEGIN IMMEDIATE')
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      description TEXT NOT NULL,
      applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    )`)
    checkUsable(db, migrations)
    const rows = db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]
    const applied = new Set(rows.map((row) => Number(row.version)))
    // Versions this build does not know belong to a newer build (a rollback): this build keeps
    // working beside them, unless one of them said otherwise (checkUsable).
    const pending = migrations.filter((m) => !applied.has(m.version)).sort((a, b) => a.version - b.version)
    const record = db.prepare('INSERT INTO schema_migrations (version, description) VALUES (?, ?)')
    for (const migration of pending) {
      for (const statement of migration.statements) db.exec(statement)
      migration.run?.(db)
      record.run(migration.version, migration.description)
    }
    db.exec('COMMIT')
    return pending.map((m) => m.version)
  } catch (error) {
    db.exec('ROLLBACK')
    throw error
  }
}

/**
 * A migration that older builds cannot work beside (it removes what they use) records, in meta,
 * the schema version a build must know at least; a build that knows less refuses the database
 * before it touches it, naming both versions.
 */
function checkUsable(db: SqliteDatabase, migrations: readonly SqliteMigration[]): void {
  const meta = db.prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()
  if (!meta) return
  const row = db.prepare("SELECT value FROM meta WHERE key = 'oldest_usable_schema'").get() as
    | { value: string }
    | undefined
    | null
  const needed = Number(row?.value ?? 0)
  const known = Math.max(0, ...migrations.map((m) => m.version))
  if (needed > known) throw new SchemaTooNewError(needed, known)
}

export class SchemaTooNewError extends Error {
  constructor(
    readonly needed: number,
    readonly known: number,
  ) {
    super(
      `the database was migrated by a newer build and needs schema version ${needed} or later; this build knows up to version ${known}`,
    )
    this.name = 'SchemaTooNewError'
  }
}
