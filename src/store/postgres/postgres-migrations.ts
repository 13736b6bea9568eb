/**
 * The PostgreSQL schema, as numbered migrations applied at start-up. Every replica runs them;
 * a transaction-scoped advisory lock makes the ones that start at the same moment wait for the
 * first, which then finds nothing left to do. DDL is transactional in PostgreSQL, so a migration
 * that fails leaves no half-made schema behind.
 */
import type { Sql } from 'postgres'

interface Migration {
  version: number
  description: string
  statements: string[]
}

/** Append only: a released migration is never edited, a new one is added after it. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'configs, the bounded event history, and the store-wide revision counter',
    statements: [
      // COLLATE "C": list order and paging cursors compare bytes, exactly as SQLite does.
      // json (not jsonb) keeps each body's text as written, key order included.
      `CREATE TABLE configs (
         dcname text COLLATE "C" PRIMARY KEY,
         body json NOT NULL,
         revision bigint NOT NULL
       )`,
      `CREATE TABLE events (
         revision bigint PRIMARY KEY,
         type text NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
         dcname text COLLATE "C" NOT NULL,
         body json NOT NULL
       )`,
      // One row. Every write bumps `revision` in its own transaction: the row lock serializes
      // writers, so revisions commit in order (a sequence would let 6 commit before 5 and a
      // watcher reading "after 5" would skip it). Events at or below `compacted_through`
      // may have been pruned.
      `CREATE TABLE store_state (
         singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
         revision bigint NOT NULL,
         compacted_through bigint NOT NULL,
         seeded_at timestamptz
       )`,
      'INSERT INTO store_state (revision, compacted_through) VALUES (0, 0)',
    ],
  },
  {
    version: 2,
    description: 'events keep the state before a MODIFIED write, for exact filtered replays',
    // Nullable: older MODIFIED events have none, and an older replica still running during a
    // rolling update writes none; a filtered replay across one answers 410 (see WatchHub).
    statements: ['ALTER TABLE events ADD COLUMN previous json'],
  },
  {
    version: 3,
    description: 'history: events become history entries (time, actor, request id), kept per config',
    statements: [
      // Events written before this migration get the time of the upgrade (they are at least
      // that old) and the actor `unknown`. The defaults also serve a replica of the previous
      // build still writing during a rolling update.
      `ALTER TABLE events
         ADD COLUMN time timestamptz NOT NULL DEFAULT now(),
         ADD COLUMN actor text NOT NULL DEFAULT 'unknown',
         ADD COLUMN request_id text NOT NULL DEFAULT ''`,
      // One config's history, newest first, and retention's per-config probes.
      'CREATE INDEX events_by_dcname ON events (dcname, revision)',
      // Per config, the range of revisions retention dropped (see postgres-history.ts).
      `CREATE TABLE history_compaction (
         dcname text COLLATE "C" PRIMARY KEY,
         first_dropped bigint NOT NULL,
         dropped_through bigint NOT NULL
       )`,
      // From here on `compacted_through` is the newest revision retention dropped. Before,
      // events were trimmed to the newest WATCH_HISTORY_SIZE: a config left with no event gets
      // its current state as its oldest entry, and older revisions of any config count as dropped.
      `INSERT INTO events (revision, type, dcname, body)
       SELECT c.revision, 'MODIFIED', c.dcname, c.body FROM configs c
       WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.dcname = c.dcname)`,
      `INSERT INTO history_compaction (dcname, first_dropped, dropped_through)
       SELECT e.dcname, 1, least(s.compacted_through, min(e.revision) - 1)
       FROM events e CROSS JOIN store_state s
       GROUP BY e.dcname, s.compacted_through
       HAVING least(s.compacted_through, min(e.revision) - 1) >= 1`,
    ],
  },
  {
    version: 4,
    description: 'history entries of rollbacks name the revision they restored',
    // Nullable: every other write has none, and so has a write of a replica of the previous
    // build still running during a rolling update.
    statements: ['ALTER TABLE events ADD COLUMN rollback_of bigint'],
  },
  {
    version: 5,
    description: 'config schemas: a JSON Schema per dcname prefix, at most one per prefix',
    statements: [
      // `source`: the schema as JSON text, as written; `revision`: taken from store_state, so
      // schema and config writes share one order (and one lock).
      `CREATE TABLE schemas (
         name text COLLATE "C" PRIMARY KEY,
         prefix text COLLATE "C" NOT NULL UNIQUE,
         mode text NOT NULL CHECK (mode IN ('enforce', 'warn')),
         source text NOT NULL,
         revision bigint NOT NULL
       )`,
    ],
  },
  {
    version: 6,
    description: 'schema history: every schema write keeps the state it left, who and when',
    statements: [
      // One row per schema write (its revision is the store revision it took); for DELETED the
      // last state.
      `CREATE TABLE schema_history (
         revision bigint PRIMARY KEY,
         type text NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
         name text COLLATE "C" NOT NULL,
         prefix text COLLATE "C" NOT NULL,
         mode text NOT NULL,
         source text NOT NULL,
         time timestamptz NOT NULL DEFAULT now(),
         actor text NOT NULL,
         request_id text NOT NULL DEFAULT '',
         rollback_of bigint,
         forced boolean NOT NULL DEFAULT false
       )`,
      'CREATE INDEX schema_history_by_name ON schema_history (name, revision)',
      // Per schema, the range of revisions retention dropped (see postgres-schema-history.ts).
      `CREATE TABLE schema_history_compaction (
         name text COLLATE "C" PRIMARY KEY,
         first_dropped bigint NOT NULL,
         dropped_through bigint NOT NULL
       )`,
      // Schemas stored before it get their present state as their oldest entry; what came
      // before is unknown, so it counts as dropped (a read there answers 410, not 404).
      `INSERT INTO schema_history (revision, type, name, prefix, mode, source, actor)
       SELECT revision, 'MODIFIED', name, prefix, mode, source, 'unknown' FROM schemas`,
      `INSERT INTO schema_history_compaction (name, first_dropped, dropped_through)
       SELECT name, 1, revision - 1 FROM schemas WHERE revision > 1`,
    ],
  },
  {
    version: 7,
    description: 'rollouts, each one versioned document; history entries name the rollout that wrote them',
    statements: [
      // Nullable: writes no rollout made have none (and replicas of the previous build write none).
      'ALTER TABLE events ADD COLUMN rollout text',
      // `seq`: creation order, for newest-first pages; `version`: each save's check (rollout-store.ts).
      `CREATE TABLE rollouts (
         seq bigserial PRIMARY KEY,
         id text COLLATE "C" NOT NULL UNIQUE,
         status text NOT NULL,
         version bigint NOT NULL,
         body jsonb NOT NULL
       )`,
      'CREATE INDEX rollouts_by_status ON rollouts (status, seq)',
    ],
  },
  {
    version: 8,
    description: 'rollout event log: each timeline entry numbered, for watches that resume with since',
    statements: [
      // `seq`: one sequence for every rollout, given under a lock in commit order (postgres-rollouts.ts).
      `CREATE TABLE rollout_events (
         seq bigint PRIMARY KEY,
         rollout_id text COLLATE "C" NOT NULL,
         status text NOT NULL,
         wave integer NOT NULL,
         entry jsonb NOT NULL
       )`,
      // Entries saved before the log have seq 0: logged never, and never taken for new ones.
      `UPDATE rollouts SET body = jsonb_set(body, '{timeline}', (
         SELECT coalesce(jsonb_agg(t.entry || '{"seq":0}'::jsonb ORDER BY t.i), '[]'::jsonb)
         FROM jsonb_array_elements(body->'timeline') WITH ORDINALITY AS t(entry, i)))`,
    ],
  },
]

/** Arbitrary, fixed: the key every replica of this service locks while migrating. */
const MIGRATION_LOCK_KEY = 4_242_001_001

/** Applies the migrations this database lacks; returns their versions. */
export async function migrate(sql: Sql, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return (await sql.begin(async (tx) => {
    // A later migration may be slow on a big table; the request statement timeout is not for it.
    await tx`SET LOCAL statement_timeout = 0`
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      description text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`
    const rows = await tx<{ version: number }[]>`SELECT version FROM schema_migrations`
    const applied = new Set(rows.map((row) => row.version))
    // Versions this build does not know belong to a newer build (a rolling update in progress
    // or a rollback): they are additive by rule, so an older replica keeps working beside them.
    const pending = migrations.filter((m) => !applied.has(m.version)).sort((a, b) => a.version - b.version)
    for (const migration of pending) {
      for (const statement of migration.statements) await tx.unsafe(statement)
      await tx`INSERT INTO schema_migrations (version, description) VALUES (${migration.version}, ${migration.description})`
    }
    return pending.map((m) => m.version)
  })) as number[]
}

/** SQLSTATE undefined_table: a database this service never migrated has no schema_migrations. */
const UNDEFINED_TABLE = '42P01'

/**
 * Makes the schema current and returns the store's revision. A database that is current already
 * (every start but the first after an upgrade) costs one statement and no lock: migrations are
 * committed whole and never edited, so once every version of this build is listed, there is
 * nothing to apply and nobody to wait for.
 */
export async function migrateAndReadRevision(sql: Sql, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  const state = await schemaState(sql)
  if (state && migrations.every((m) => state.versions.has(m.version))) return state.revision
  await migrate(sql, migrations)
  return (await schemaState(sql))?.revision ?? 0
}

async function schemaState(sql: Sql): Promise<{ revision: number; versions: Set<number> } | undefined> {
  try {
    const [row] = await sql<{ revision: string | null; versions: string | null }[]>`
      SELECT (SELECT revision FROM store_state) AS revision,
             (SELECT string_agg(version::text, ',') FROM schema_migrations) AS versions`
    return {
      revision: Number(row?.revision ?? 0),
      versions: new Set((row?.versions ?? '').split(',').filter(Boolean).map(Number)),
    }
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === UNDEFINED_TABLE) return undefined
    throw error
  }
}
