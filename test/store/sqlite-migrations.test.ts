/**
 * The SQLite schema as numbered migrations: a database made before the migrations existed
 * (by the schema statements earlier builds ran on every open) is adopted with all it holds,
 * migrations run once, and one that fails leaves nothing behind.
 */
import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { HistoryCompactedError, RevisionCompactedError } from '../../src/configs/config-store.ts'
import { SchemaRevisionCompactedError } from '../../src/configs/schema-history.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { MIGRATIONS, migrate, SchemaTooNewError } from '../../src/store/sqlite/sqlite-migrations.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { runUntilExit, tempDir } from '../support/server.ts'
import { allChangesAfter } from './changes.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }

/** The schema as the builds before migrations created it, on every open (verbatim). */
const SCHEMA_BEFORE_MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS configs (
     dcname TEXT PRIMARY KEY,
     body TEXT NOT NULL,
     revision INTEGER NOT NULL
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS events (
     revision INTEGER PRIMARY KEY AUTOINCREMENT,
     type TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
     dcname TEXT NOT NULL,
     body TEXT NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS leaves (
     path TEXT NOT NULL,
     value TEXT NOT NULL,
     dcname TEXT NOT NULL,
     PRIMARY KEY (path, value, dcname)
   ) WITHOUT ROWID`,
  'DROP INDEX IF EXISTS leaves_by_dcname',
]

const body = (dcname: string, team: string) => JSON.stringify({ dcname, metadata: { team } })

/**
 * What such a build left after seeding and four writes: a created, b created, a modified, b
 * deleted; the index built (its version in meta) and holding a's current leaf.
 */
function databaseBeforeMigrations(path: string): void {
  const db = new Database(path, { create: true, strict: true })
  db.run('PRAGMA journal_mode = WAL')
  for (const sql of SCHEMA_BEFORE_MIGRATIONS) db.run(sql)
  const event = db.prepare('INSERT INTO events (type, dcname, body) VALUES (?, ?, ?)')
  event.run('ADDED', 'a', body('a', 'x'))
  event.run('ADDED', 'b', body('b', 'y'))
  event.run('MODIFIED', 'a', body('a', 'z'))
  event.run('DELETED', 'b', body('b', 'y'))
  db.prepare('INSERT INTO configs (dcname, body, revision) VALUES (?, ?, ?)').run('a', body('a', 'z'), 3)
  db.prepare('INSERT INTO leaves (path, value, dcname) VALUES (?, ?, ?)').run('metadata.team', 'z', 'a')
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('seeded', '2025-01-01T00:00:00.000Z')
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('leaves', 'v2')
  db.close()
}

/**
 * A database of the build before history: its events trimmed to the newest WATCH_HISTORY_SIZE
 * (here 1). `old` was created at revision 1 and `a` at 2, then modified at 3; only event 3 is left.
 */
function databaseBeforeHistory(path: string): void {
  const db = openBunSqlite(path)
  migrate(
    db,
    MIGRATIONS.filter((m) => m.version <= 2),
  )
  const event = db.prepare('INSERT INTO events (type, dcname, body) VALUES (?, ?, ?)')
  event.run('ADDED', 'old', body('old', 'o'))
  event.run('ADDED', 'a', body('a', 'x'))
  event.run('MODIFIED', 'a', body('a', 'z'))
  db.prepare('DELETE FROM events WHERE revision <= 2').run()
  db.prepare('INSERT INTO configs (dcname, body, revision) VALUES (?, ?, ?)').run('old', body('old', 'o'), 1)
  db.prepare('INSERT INTO configs (dcname, body, revision) VALUES (?, ?, ?)').run('a', body('a', 'z'), 3)
  db.close()
}

/**
 * A database of the build before the filter index went (schema version 4): `a` (team x) and `b`
 * (team y) in the configs, and the index as that build kept it, plus a stale row claiming `b`
 * is in team x, which must not be believed once the index is gone.
 */
function databaseWithFilterIndex(path: string): void {
  const db = openBunSqlite(path)
  migrate(
    db,
    MIGRATIONS.filter((m) => m.version <= 4),
  )
  const write = (dcname: string, team: string, revision: number) => {
    db.prepare('INSERT INTO events (type, dcname, body, time) VALUES (?, ?, ?, ?)').run(
      'ADDED',
      dcname,
      body(dcname, team),
      1,
    )
    db.prepare('INSERT INTO configs (dcname, body, revision) VALUES (?, ?, ?)').run(
      dcname,
      body(dcname, team),
      revision,
    )
    db.prepare('INSERT INTO leaves (path, value, dcname) VALUES (?, ?, ?)').run('metadata.team', team, dcname)
  }
  write('a', 'x', 1)
  write('b', 'y', 2)
  db.prepare('INSERT INTO leaves (path, value, dcname) VALUES (?, ?, ?)').run('metadata.team', 'x', 'b')
  db.close()
}

function tableNames(path: string): string[] {
  const db = new Database(path, { readonly: true })
  try {
    const rows = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name").all()
    return (rows as { name: string }[]).map((row) => row.name)
  } finally {
    db.close()
  }
}

function appliedVersions(path: string): number[] {
  const db = new Database(path, { readonly: true })
  try {
    return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map(
      (row) => row.version,
    )
  } finally {
    db.close()
  }
}

describe('SQLite migrations', () => {
  let dir: string
  let path: string
  const opened: SqliteConfigStore[] = []
  const open = () => {
    const store = new SqliteConfigStore({ path, open: openBunSqlite })
    opened.push(store)
    return store
  }

  beforeEach(() => {
    dir = tempDir('sqlite-migrations-')
    path = join(dir, 'configs.db')
  })
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('when a database made before migrations is opened, then it keeps its configs, history and seeded mark, and filters still match', async () => {
    databaseBeforeMigrations(path)
    const store = open()
    expect(await store.get('a')).toEqual({ config: { dcname: 'a', metadata: { team: 'z' } }, revision: 3 })
    expect(await store.get('b')).toBeUndefined()
    expect(await store.count()).toBe(1)
    const history = await allChangesAfter(store, 0)
    expect(history.map((e) => [e.type, e.config.dcname, e.revision])).toEqual([
      ['ADDED', 'a', 1],
      ['ADDED', 'b', 2],
      ['MODIFIED', 'a', 3],
      ['DELETED', 'b', 4],
    ])
    const team = async (value: string) =>
      (await store.list({ filters: [{ path: ['metadata', 'team'], value }], limit: 10 })).items.map(
        (i) => i.config.dcname,
      )
    expect(await team('z')).toEqual(['a'])
    expect(await team('x')).toEqual([])
    expect(await store.seed([{ dcname: 'seed', metadata: {} }], author)).toBe(false)
    expect((await store.create({ dcname: 'c', metadata: { team: 'z' } }, author)).revision).toBe(5)
    expect(await team('z')).toEqual(['a', 'c'])
    expect(appliedVersions(path)).toEqual(MIGRATIONS.map((m) => m.version))
  })

  it('when a database from before history is opened, then its events become entries and what was trimmed counts as dropped', async () => {
    databaseBeforeHistory(path)
    const store = open()
    const entries = async (dcname: string) =>
      (await store.history(dcname, { limit: 10 })).entries.map((e) => [e.type, e.revision, e.actor])
    // A config whose every event was trimmed gets its current state as its oldest entry.
    expect(await entries('old')).toEqual([['MODIFIED', 1, 'unknown']])
    expect(await store.getAt('old', 3)).toEqual({ config: { dcname: 'old', metadata: { team: 'o' } }, revision: 1 })
    expect(await entries('a')).toEqual([['MODIFIED', 3, 'unknown']])
    const compacted = await store.getAt('a', 2).catch((error: unknown) => error)
    expect(compacted).toBeInstanceOf(RevisionCompactedError)
    expect((compacted as RevisionCompactedError).oldestKept).toBe(3)
    // Watch replay keeps its old rule: nothing from before the trimmed revisions.
    await expect(allChangesAfter(store, 1)).rejects.toBeInstanceOf(HistoryCompactedError)
    expect((await allChangesAfter(store, 2)).map((e) => e.revision)).toEqual([3])
    const next = await store.replace({ dcname: 'a', metadata: { team: 'y' } }, {}, author)
    expect(next.stored.revision).toBe(4)
    expect(await entries('a')).toEqual([
      ['MODIFIED', 4, 'test'],
      ['MODIFIED', 3, 'unknown'],
    ])
  })

  it('when a database of schema version 5 is opened, then its entries keep no rollbackOf and a rollback records one', async () => {
    const db = openBunSqlite(path)
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 5),
    )
    db.prepare(
      "INSERT INTO events (type, dcname, body, time, actor, request_id) VALUES ('ADDED', 'a', ?, 1, 'x', 'r-1')",
    ).run(body('a', 'x'))
    db.prepare('INSERT INTO configs (dcname, body, revision) VALUES (?, ?, 1)').run('a', body('a', 'x'))
    db.close()
    const store = open()
    await store.replace({ dcname: 'a', metadata: { team: 'y' } }, {}, author)
    const rolledBack = await store.rollback('a', 1, {}, author)
    const entries = (await store.history('a', { limit: 10 })).entries
    expect(entries.map((e) => [e.revision, e.rollbackOf])).toEqual([
      [rolledBack.stored.revision, 1],
      [2, undefined],
      [1, undefined],
    ])
    expect(appliedVersions(path)).toEqual(MIGRATIONS.map((m) => m.version))
  })

  it('when a database of schema version 7 holding a schema is opened, then the schema gets its state as its oldest entry', async () => {
    const db = openBunSqlite(path)
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 7),
    )
    db.exec("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', 4)")
    db.prepare("INSERT INTO schemas (name, prefix, mode, source, revision) VALUES ('s', 's-', 'warn', '{}', 4)").run()
    db.close()
    const store = open()
    const { entries } = await store.schemas.history('s', { limit: 10 })
    expect(entries.map((e) => [e.revision, e.type, e.actor, e.requestId])).toEqual([
      [4, 'MODIFIED', 'unknown', undefined],
    ])
    expect(await store.schemas.getAt('s', 4)).toEqual({
      definition: { name: 's', prefix: 's-', mode: 'warn', schema: {} },
      revision: 4,
    })
    // What came before it is not known: compacted, not "did not exist".
    expect(await store.schemas.getAt('s', 3).catch((error) => error)).toBeInstanceOf(SchemaRevisionCompactedError)
  })

  it('when a migrated database is opened again, then no migration runs again', async () => {
    await open().create({ dcname: 'kept', metadata: { team: 't' } }, author)
    const db = openBunSqlite(path)
    try {
      expect(migrate(db)).toEqual([])
    } finally {
      db.close()
    }
    const again = open()
    expect((await again.list({ filters: [{ path: ['metadata', 'team'], value: 't' }], limit: 10 })).items).toHaveLength(
      1,
    )
    expect(appliedVersions(path)).toEqual(MIGRATIONS.map((m) => m.version))
  })

  it('when a migration fails, then nothing of the pending ones is kept', () => {
    const failing = {
      version: MIGRATIONS.length + 1,
      description: 'fails half-way',
      statements: ['CREATE TABLE half (x TEXT)', 'INSERT INTO missing_table VALUES (1)'],
    }
    const db = openBunSqlite(path)
    try {
      expect(() => migrate(db, [...MIGRATIONS, failing])).toThrow(/missing_table/)
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
      expect(tables).toEqual([])
    } finally {
      db.close()
    }
  })

  it('when a newer build recorded a migration this one does not know, then the store still opens', async () => {
    await open().create({ dcname: 'x', metadata: {} }, author)
    const db = new Database(path, { strict: true })
    db.prepare('INSERT INTO schema_migrations (version, description) VALUES (?, ?)').run(999, 'from a newer build')
    db.close()
    expect((await open().get('x'))?.config.dcname).toBe('x')
    expect(appliedVersions(path)).toEqual([...MIGRATIONS.map((m) => m.version), 999])
  })

  it('when a database with the filter index is opened, then the index is dropped and filters answer from the configs', async () => {
    databaseWithFilterIndex(path)
    expect(tableNames(path)).toContain('leaves')
    const store = open()
    expect(tableNames(path).filter((name) => name.startsWith('leaves'))).toEqual([])
    expect(appliedVersions(path)).toEqual(MIGRATIONS.map((m) => m.version))
    const team = async (value: string, after?: string) =>
      (await store.list({ filters: [{ path: ['metadata', 'team'], value }], limit: 10, after })).items.map(
        (i) => i.config.dcname,
      )
    expect(await team('x')).toEqual(['a'])
    expect(await team('y')).toEqual(['b'])
    expect(await team('y', 'b')).toEqual([])
    await store.replace({ dcname: 'a', metadata: { team: 'y' } }, {}, author)
    expect(await team('y')).toEqual(['a', 'b'])
    expect(await team('x')).toEqual([])
  })

  it('when a build that knows fewer migrations than the database needs opens it, then it refuses naming both versions and changes nothing', async () => {
    await open().create({ dcname: 'x', metadata: {} }, author)
    const db = openBunSqlite(path)
    try {
      const olderBuild = MIGRATIONS.filter((m) => m.version <= 4)
      const refusal = (() => {
        try {
          migrate(db, olderBuild)
        } catch (error) {
          return error
        }
      })()
      expect(refusal).toBeInstanceOf(SchemaTooNewError)
      expect((refusal as Error).message).toBe(
        'the database was migrated by a newer build and needs schema version 5 or later; this build knows up to version 4',
      )
    } finally {
      db.close()
    }
    expect(appliedVersions(path)).toEqual(MIGRATIONS.map((m) => m.version))
    expect((await open().get('x'))?.config.dcname).toBe('x')
  })

  it.each(['bun', 'deno'] as const)(
    'when the service on %s opens a database a newer build made unusable for it, then it exits with one line naming the versions',
    async (runtime) => {
      await open().create({ dcname: 'x', metadata: {} }, author)
      for (const store of opened.splice(0)) await store.close()
      const db = new Database(path, { strict: true })
      db.prepare("UPDATE meta SET value = '99' WHERE key = 'oldest_usable_schema'").run()
      db.close()
      const exit = await runUntilExit(runtime, { DATABASE_URL: `sqlite:${path}` })
      const newest = Math.max(...MIGRATIONS.map((m) => m.version))
      expect(exit.code).toBe(1)
      expect(exit.stderr).toEqual([
        `cannot start: DATABASE_URL: cannot open the SQLite database ${path}: the database was migrated by a newer build and needs schema version 99 or later; this build knows up to version ${newest}`,
      ])
      expect(exit.stdout.some((line) => line.includes('"listening"'))).toBe(false)
    },
  )
})
