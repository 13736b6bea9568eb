/**
 * ConfigStore on one SQLite file. Every write is one IMMEDIATE transaction that takes the next
 * store-wide revision from the `events` table (which is also the watch history), so revisions
 * strictly increase and a read-modify-write cannot interleave with another writer.
 * WAL with synchronous=FULL: a write acknowledged to the client survives kill -9.
 *
 * Group commit: writes queued during one turn of the event loop share one transaction, so
 * concurrent writers share one fsync instead of waiting in line for one each. Every write runs in
 * its own savepoint (one that fails is undone alone and fails alone), and no write is answered
 * before the COMMIT that made it durable has returned.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { setImmediate } from 'node:timers'
import type { Config } from '../configs/model.ts'
import {
  type ChangeEvent,
  type ChangeListener,
  type ChangeType,
  type ConfigStore,
  ConflictError,
  checkPrecondition,
  type Filter,
  HistoryCompactedError,
  type ListPage,
  type ListQuery,
  NotFoundError,
  type Precondition,
  type ReplaceResult,
  type StoredConfig,
  StoreUnavailableError,
} from './config-store.ts'
import type { OpenSqlite, SqliteDatabase, SqliteStatement, SqlValue } from './sqlite-driver.ts'

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS configs (
     dcname TEXT PRIMARY KEY,
     body TEXT NOT NULL,
     revision INTEGER NOT NULL
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS events (
     revision INTEGER PRIMARY KEY AUTOINCREMENT,
     type TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
     dcname TEXT NOT NULL,
     body TEXT NOT NULL,
     previous TEXT
   )`,
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`,
  // The filter index: every scalar leaf as a filter compares it, so a search reads only the
  // configs that match instead of parsing every body (100x faster over 10,000 configs).
  `CREATE TABLE IF NOT EXISTS leaves (
     path TEXT NOT NULL,
     value TEXT NOT NULL,
     dcname TEXT NOT NULL,
     PRIMARY KEY (path, value, dcname)
   ) WITHOUT ROWID`,
  // Old leaves are removed by their exact keys (from the old body): no second index to keep up.
  'DROP INDEX IF EXISTS leaves_by_dcname',
]

export interface SqliteStoreOptions {
  path: string
  open: OpenSqlite
  /** How many past events are kept for watch replay. */
  historySize?: number
}

type Row = { body: string; revision: number }
type Leaf = [path: string, value: string]
/** Bumped whenever leavesOf changes what it indexes: databases then rebuild the index on open. */
const LEAVES_VERSION = 'v2'
type QueuedWrite = { work: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }
type EventRow = { type: ChangeType; body: string; previous: string | null; revision: number }

export class SqliteConfigStore implements ConfigStore {
  readonly backend = 'sqlite'
  private readonly db: SqliteDatabase
  private readonly historySize: number
  private readonly statements: ReturnType<typeof prepareStatements>
  private readonly listStatements = new Map<string, SqliteStatement>()
  private readonly listeners = new Set<ChangeListener>()
  /** Events of the running transaction, published only once it commits. */
  private pending: ChangeEvent[] = []
  private closed = false
  /** Writes waiting for the next group commit. */
  private queued: QueuedWrite[] = []
  /** A read transaction is open for this turn of the event loop (see `read`). */
  private reading = false

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
    this.db = options.open(options.path)
    this.historySize = options.historySize ?? 10_000
    this.db.exec('PRAGMA journal_mode = WAL')
    this.db.exec('PRAGMA synchronous = FULL')
    this.db.exec('PRAGMA busy_timeout = 5000')
    for (const sql of SCHEMA) this.db.exec(sql)
    this.addPreviousToEvents()
    this.statements = prepareStatements(this.db)
    this.indexLeavesOnce()
  }

  async get(dcname: string): Promise<StoredConfig | undefined> {
    return this.read(() => {
      const row = this.statements.get.get(dcname) as Row | undefined | null
      return row ? toStored(row) : undefined
    })
  }

  async list(query: ListQuery): Promise<ListPage> {
    this.ensureOpen()
    const { sql, params } = listSql(query)
    let statement = this.listStatements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      // Filters come in few shapes; keep the cache bounded in case a client varies them.
      if (this.listStatements.size < 256) this.listStatements.set(sql, statement)
    }
    return this.read(() => {
      const rows = statement.all(...params) as Row[]
      const more = rows.length > query.limit
      return { items: rows.slice(0, query.limit).map(toStored), more, revision: this.currentRevision() }
    })
  }

  async count(): Promise<number> {
    return this.read(() => Number((this.statements.count.get() as { n: number }).n))
  }

  async create(config: Config): Promise<StoredConfig> {
    return this.enqueue(() => {
      if (this.statements.revisionOf.get(config.dcname)) throw new ConflictError(config.dcname)
      return this.write('ADDED', config)
    })
  }

  async replace(config: Config, precondition: Precondition): Promise<ReplaceResult> {
    return this.enqueue(() => {
      const row = this.statements.get.get(config.dcname) as Row | undefined | null
      checkPrecondition(config.dcname, row?.revision, precondition)
      const created = !row
      return { stored: this.write(created ? 'ADDED' : 'MODIFIED', config, row?.body), created }
    })
  }

  async update(dcname: string, change: (current: Config) => Config, precondition: Precondition): Promise<StoredConfig> {
    return this.enqueue(() => {
      const row = this.statements.get.get(dcname) as Row | undefined | null
      checkPrecondition(dcname, row?.revision, precondition)
      if (!row) throw new NotFoundError(dcname)
      return this.write('MODIFIED', change(JSON.parse(row.body) as Config), row.body)
    })
  }

  async delete(dcname: string, precondition: Precondition): Promise<number> {
    return this.enqueue(() => {
      const row = this.statements.get.get(dcname) as Row | undefined | null
      checkPrecondition(dcname, row?.revision, precondition)
      if (!row) throw new NotFoundError(dcname)
      const last = JSON.parse(row.body) as Config
      const revision = this.appendEvent('DELETED', last, row.body)
      this.statements.remove.run(dcname)
      this.updateLeaves(dcname, leavesOf(last), [])
      return revision
    })
  }

  async seed(configs: Config[]): Promise<boolean> {
    return this.enqueue(() => {
      if (this.statements.getMeta.get('seeded')) return false
      const empty = Number((this.statements.count.get() as { n: number }).n) === 0
      if (empty) for (const config of configs) this.write('ADDED', config)
      this.statements.setMeta.run('seeded', new Date().toISOString())
      return empty
    })
  }

  async eventsSince(since: number): Promise<ChangeEvent[]> {
    return this.read(() => {
      const oldest = this.statements.oldestEvent.get() as { revision: number | null } | undefined | null
      const compactedUpTo = oldest?.revision != null ? Number(oldest.revision) - 1 : this.currentRevision()
      if (since < compactedUpTo) throw new HistoryCompactedError(since, compactedUpTo)
      const rows = this.statements.eventsAfter.all(since) as EventRow[]
      return rows.map((row) => ({
        type: row.type,
        config: JSON.parse(row.body) as Config,
        revision: Number(row.revision),
        ...(row.previous === null ? {} : { previous: JSON.parse(row.previous) as Config }),
      }))
    })
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async ping(): Promise<void> {
    this.read(() => this.statements.ping.get())
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.commitQueued()
    this.endRead()
    this.closed = true
    this.db.close()
  }

  /** bun:sqlite statements on a closed database quietly return nothing: refuse instead. */
  private ensureOpen(): void {
    if (this.closed) throw new StoreUnavailableError(new Error('the store is closed'))
  }

  /**
   * `previousBody`: the stored text this write replaces, whose leaves it takes out of the index
   * and which a MODIFIED event keeps as its previous state.
   */
  private write(type: ChangeType, config: Config, previousBody?: string): StoredConfig {
    const body = JSON.stringify(config)
    const revision = this.appendEvent(type, config, body, type === 'MODIFIED' ? previousBody : undefined)
    this.statements.upsert.run(config.dcname, body, revision)
    const before = previousBody === undefined ? [] : leavesOf(JSON.parse(previousBody) as Config)
    this.updateLeaves(config.dcname, before, leavesOf(config))
    return { config, revision }
  }

  /** Touches only the leaves that changed: a PUT that keeps a field keeps its index entry. */
  private updateLeaves(dcname: string, before: Leaf[], after: Leaf[]): void {
    const key = ([path, value]: Leaf) => `${path}\u0000${value}`
    const kept = new Set(after.map(key))
    const had = new Set(before.map(key))
    for (const leaf of before) if (!kept.has(key(leaf))) this.statements.removeLeaf.run(leaf[0], leaf[1], dcname)
    for (const leaf of after) if (!had.has(key(leaf))) this.statements.addLeaf.run(leaf[0], leaf[1], dcname)
  }

  /**
   * A database made before events kept the previous state gets the column. Its older MODIFIED
   * events have none, so a filtered replay across them answers 410 (see WatchHub).
   */
  private addPreviousToEvents(): void {
    const columns = this.db.prepare('PRAGMA table_info(events)').all() as { name: string }[]
    if (!columns.some((column) => column.name === 'previous')) {
      this.db.exec('ALTER TABLE events ADD COLUMN previous TEXT')
    }
  }

  /** A database written before this version of the filter index gets it (re)built once, on open. */
  private indexLeavesOnce(): void {
    const built = () => (this.statements.getMeta.get('leaves') as { value: string } | undefined | null)?.value
    if (built() === LEAVES_VERSION) return
    this.transaction('IMMEDIATE', () => {
      if (built() === LEAVES_VERSION) return
      this.statements.clearLeaves.run()
      for (const row of this.statements.allBodies.all() as { dcname: string; body: string }[]) {
        this.updateLeaves(row.dcname, [], leavesOf(JSON.parse(row.body) as Config))
      }
      this.statements.setMeta.run('leaves', LEAVES_VERSION)
    })
  }

  private appendEvent(type: ChangeType, config: Config, body: string, previous?: string): number {
    const appended = this.statements.appendEvent.get(type, config.dcname, body, previous ?? null)
    const { revision } = appended as { revision: number }
    this.pending.push({ type, config, revision })
    return revision
  }

  private publish(events: ChangeEvent[]): void {
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event)
        } catch {
          // A failing watcher must never fail the write that already committed.
        }
      }
    }
  }

  private currentRevision(): number {
    const row = this.statements.currentRevision.get() as { seq: number } | undefined | null
    return row ? Number(row.seq) : 0
  }

  /** Queues a write for the next group commit; settles once that commit is durable. */
  private enqueue<T>(work: () => T): Promise<T> {
    this.ensureOpen()
    return new Promise<T>((resolve, reject) => {
      // The commit waits two turns of the event loop: requests that arrive together have their
      // bodies read over a turn or two, and so still share it (batches of 27 instead of 17 at
      // 32 writers, +20% writes/s); one writer alone only waits one idle turn longer.
      if (this.queued.length === 0) setImmediate(() => setImmediate(() => this.commitQueued()))
      this.queued.push({ work, resolve: resolve as (value: unknown) => void, reject })
    })
  }

  /**
   * Runs every queued write in one IMMEDIATE transaction. A write that fails before changing
   * anything (a conflict, a failed precondition: the usual failures) just fails. One that fails
   * half-way has the whole batch run again with a savepoint per write, so that exactly its part
   * is undone; savepoints on every write would cost more than the writes themselves. Running a
   * write again is safe: nothing of its first run was kept.
   */
  private commitQueued(): void {
    const batch = this.queued
    this.queued = []
    if (batch.length > 0 && !this.runBatch(batch, false)) this.runBatch(batch, true)
  }

  /** False when, without savepoints, a write failed half-way: then nothing was kept or settled. */
  private runBatch(batch: QueuedWrite[], savepoints: boolean): boolean {
    const outcomes: { ok: boolean; value: unknown }[] = []
    this.pending = []
    try {
      this.ensureOpen()
      endReads()
      this.db.exec('BEGIN IMMEDIATE')
    } catch (error) {
      for (const write of batch) write.reject(unavailableOrRethrow(error))
      return true
    }
    try {
      for (const write of batch) {
        const published = this.pending.length
        const changes = savepoints ? 0 : this.totalChanges()
        if (savepoints) this.statements.savepoint.run()
        try {
          outcomes.push({ ok: true, value: write.work() })
        } catch (error) {
          if (savepoints) this.statements.rollbackToSavepoint.run()
          else if (this.totalChanges() !== changes) {
            this.pending = []
            this.db.exec('ROLLBACK')
            return false
          }
          this.pending.length = published
          outcomes.push({ ok: false, value: unavailableOrRethrow(error) })
        }
        if (savepoints) this.statements.releaseSavepoint.run()
      }
      // The history is trimmed once per batch, to the newest `historySize` events.
      const newest = this.pending.at(-1)?.revision
      if (newest !== undefined) this.statements.pruneEvents.run(newest - this.historySize)
      this.db.exec('COMMIT')
    } catch (error) {
      // The transaction itself failed (disk full, I/O error): nothing of the batch was stored.
      this.pending = []
      try {
        this.db.exec('ROLLBACK')
      } catch {
        // SQLite already rolled it back.
      }
      for (const write of batch) write.reject(unavailableOrRethrow(error))
      return true
    }
    const events = this.pending
    this.pending = []
    this.publish(events)
    batch.forEach((write, i) => {
      const outcome = outcomes[i] as { ok: boolean; value: unknown }
      if (outcome.ok) write.resolve(outcome.value)
      else write.reject(outcome.value)
    })
    return true
  }

  private totalChanges(): number {
    return Number((this.statements.totalChanges.get() as { n: number }).n)
  }

  /**
   * Reads share one read transaction per turn of the event loop: taking and dropping SQLite's
   * WAL read lock costs three system calls, more than the read itself, and under load a turn
   * serves many requests. A turn's reads see one snapshot; every write in this process ends the
   * open read transactions first (endReads), so a read after an acknowledged write sees it.
   */
  private read<T>(work: () => T): T {
    this.ensureOpen()
    if (!this.reading) {
      try {
        this.statements.begin.run()
      } catch (error) {
        throw unavailableOrRethrow(error)
      }
      this.reading = true
      openReads.add(this)
      setImmediate(() => this.endRead())
    }
    try {
      return work()
    } catch (error) {
      throw unavailableOrRethrow(error)
    }
  }

  private endRead(): void {
    if (!this.reading) return
    this.reading = false
    openReads.delete(this)
    try {
      this.statements.commit.run()
    } catch {
      // Nothing was written in it: there is nothing to lose.
    }
  }

  /** Runs `work` synchronously inside one transaction, so nothing else can interleave. */
  private transaction<T>(mode: 'DEFERRED' | 'IMMEDIATE', work: () => T): T {
    this.ensureOpen()
    endReads()
    try {
      this.db.exec(`BEGIN ${mode}`)
    } catch (error) {
      throw unavailableOrRethrow(error)
    }
    this.pending = []
    try {
      const result = work()
      this.db.exec('COMMIT')
      const events = this.pending
      this.pending = []
      this.publish(events)
      return result
    } catch (error) {
      this.pending = []
      this.db.exec('ROLLBACK')
      throw unavailableOrRethrow(error)
    }
  }
}

/** Stores of this process with a read transaction open (see SqliteConfigStore.read). */
const openReads = new Set<SqliteConfigStore>()

function endReads(): void {
  for (const store of openReads) (store as unknown as { endRead(): void }).endRead()
}

function prepareStatements(db: SqliteDatabase) {
  return {
    begin: db.prepare('BEGIN'),
    commit: db.prepare('COMMIT'),
    get: db.prepare('SELECT body, revision FROM configs WHERE dcname = ?'),
    revisionOf: db.prepare('SELECT revision FROM configs WHERE dcname = ?'),
    count: db.prepare('SELECT count(*) AS n FROM configs'),
    upsert: db.prepare(
      `INSERT INTO configs (dcname, body, revision) VALUES (?, ?, ?)
       ON CONFLICT (dcname) DO UPDATE SET body = excluded.body, revision = excluded.revision`,
    ),
    remove: db.prepare('DELETE FROM configs WHERE dcname = ?'),
    removeLeaf: db.prepare('DELETE FROM leaves WHERE path = ? AND value = ? AND dcname = ?'),
    addLeaf: db.prepare('INSERT OR IGNORE INTO leaves (path, value, dcname) VALUES (?, ?, ?)'),
    clearLeaves: db.prepare('DELETE FROM leaves'),
    allBodies: db.prepare('SELECT dcname, body FROM configs'),
    appendEvent: db.prepare('INSERT INTO events (type, dcname, body, previous) VALUES (?, ?, ?, ?) RETURNING revision'),
    pruneEvents: db.prepare('DELETE FROM events WHERE revision <= ?'),
    oldestEvent: db.prepare('SELECT min(revision) AS revision FROM events'),
    eventsAfter: db.prepare('SELECT type, body, previous, revision FROM events WHERE revision > ? ORDER BY revision'),
    currentRevision: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    ping: db.prepare('SELECT 1 AS ok'),
    totalChanges: db.prepare('SELECT total_changes() AS n'),
    savepoint: db.prepare('SAVEPOINT write'),
    rollbackToSavepoint: db.prepare('ROLLBACK TO write'),
    releaseSavepoint: db.prepare('RELEASE write'),
  }
}

function toStored(row: Row): StoredConfig {
  return { config: JSON.parse(row.body) as Config, revision: Number(row.revision) }
}

/**
 * A filter matches a scalar leaf whose JSON text equals the value, or a string leaf whose
 * content equals it (so `true` matches both true and "true"): the `leaves` table holds each leaf
 * in exactly that form (leafValue), so a metadata filter is an index lookup. The first one
 * drives the query in dcname order (the leaves' primary key); the others are probed per row.
 */
export function listSql(query: ListQuery): { sql: string; params: SqlValue[] } {
  const where: string[] = []
  const params: SqlValue[] = []
  const [driver, ...probes] = query.filters.filter((f) => !isDcnameFilter(f))
  if (driver) {
    where.push('l.path = ? AND l.value = ?')
    params.push(leafPath(driver.path), driver.value)
  }
  if (query.after !== undefined) {
    where.push(driver ? 'l.dcname > ?' : 'c.dcname > ?')
    params.push(query.after)
  }
  for (const filter of query.filters) {
    if (isDcnameFilter(filter)) {
      where.push('c.dcname = ?')
      params.push(filter.value)
    }
  }
  for (const filter of probes) {
    where.push('EXISTS (SELECT 1 FROM leaves p WHERE p.path = ? AND p.value = ? AND p.dcname = c.dcname)')
    params.push(leafPath(filter.path), filter.value)
  }
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
  params.push(query.limit + 1)
  // CROSS JOIN keeps the leaves as the outer loop: SQLite never reorders it.
  const from = driver ? 'leaves l CROSS JOIN configs c ON c.dcname = l.dcname' : 'configs c'
  return {
    sql: `SELECT c.body, c.revision FROM ${from} ${clause} ORDER BY ${driver ? 'l' : 'c'}.dcname LIMIT ?`,
    params,
  }
}

function isDcnameFilter(filter: Filter): boolean {
  return filter.path.length === 1 && filter.path[0] === 'dcname'
}

function leafPath(path: readonly string[]): string {
  return path.join('.')
}

/**
 * Every scalar leaf below `metadata` (objects walked, arrays not), as filters compare it. A key
 * with a '.' is left out: no filter can name it (segments are letters, digits, '-' and '_'), and
 * indexed it would pose as a nested path.
 */
export function leavesOf(config: Config): Leaf[] {
  const leaves: Leaf[] = []
  const walk = (node: Record<string, unknown>, path: string[]) => {
    for (const key of Object.keys(node)) {
      const value = node[key]
      if (value === undefined || key.includes('.')) continue
      const at = [...path, key]
      if (value === null || typeof value !== 'object') {
        leaves.push([leafPath(at), typeof value === 'string' ? value : JSON.stringify(value)])
      } else if (!Array.isArray(value)) {
        walk(value as Record<string, unknown>, at)
      }
    }
  }
  if (config.metadata !== null && typeof config.metadata === 'object') walk(config.metadata, ['metadata'])
  return leaves
}

function unavailableOrRethrow(error: unknown): unknown {
  const code = (error as { code?: string }).code ?? ''
  const message = error instanceof Error ? error.message : ''
  if (/SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY)/.test(`${code} ${message}`)) {
    return new StoreUnavailableError(error)
  }
  return error
}
