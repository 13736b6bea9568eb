/**
 * ConfigStore on one SQLite file. Every write is one IMMEDIATE transaction that takes the next
 * store-wide revision from the `events` table (which is also the watch history), so revisions
 * strictly increase and a read-modify-write cannot interleave with another writer.
 * WAL with synchronous=FULL: a write acknowledged to the client survives kill -9.
 *
 * One module per mechanism: the schema as numbered migrations (sqlite-migrations.ts), writes
 * sharing transactions (group-commit.ts), reads sharing one snapshot per turn of the event loop
 * (read-snapshot.ts), and the index that answers metadata filters (filter-index.ts).
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  type ChangeEvent,
  type ChangeListener,
  type ChangeType,
  type ConfigStore,
  ConflictError,
  checkPrecondition,
  HistoryCompactedError,
  type ListPage,
  type ListQuery,
  NotFoundError,
  type Precondition,
  type ReplaceResult,
  type StoredConfig,
  StoreUnavailableError,
} from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'
import { FilterIndex, listSql } from './filter-index.ts'
import { GroupCommit } from './group-commit.ts'
import { SnapshotGroup, TurnSnapshot } from './read-snapshot.ts'
import type { OpenSqlite, SqliteDatabase, SqliteStatement } from './sqlite-driver.ts'
import { migrate } from './sqlite-migrations.ts'

interface SqliteStoreOptions {
  path: string
  open: OpenSqlite
  /** How many past events are kept for watch replay. */
  historySize?: number
  /** Handles of this file whose read snapshots a write of this one ends first (see SnapshotGroup). */
  snapshots?: SnapshotGroup
}

type Row = { body: string; revision: number }
type EventRow = { type: ChangeType; body: string; previous: string | null; revision: number }

export class SqliteConfigStore implements ConfigStore {
  readonly backend = 'sqlite'
  private readonly db: SqliteDatabase
  private readonly historySize: number
  private readonly statements: ReturnType<typeof prepareStatements>
  private readonly listStatements = new Map<string, SqliteStatement>()
  private readonly listeners = new Set<ChangeListener>()
  private readonly filterIndex: FilterIndex
  private readonly snapshot: TurnSnapshot
  private readonly commits: GroupCommit
  private closed = false

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
    this.db = options.open(options.path)
    this.historySize = options.historySize ?? 10_000
    this.db.exec('PRAGMA journal_mode = WAL')
    this.db.exec('PRAGMA synchronous = FULL')
    this.db.exec('PRAGMA busy_timeout = 5000')
    migrate(this.db)
    this.statements = prepareStatements(this.db)
    this.filterIndex = new FilterIndex(this.db)
    const snapshots = options.snapshots ?? new SnapshotGroup()
    this.snapshot = new TurnSnapshot(this.db, snapshots)
    this.commits = new GroupCommit(this.db, {
      beforeBegin: () => {
        this.ensureOpen()
        snapshots.endAll()
      },
      // The history is trimmed once per batch, to the newest `historySize` events.
      beforeCommit: (newest) => this.statements.pruneEvents.run(newest - this.historySize),
      committed: (events) => this.publish(events),
    })
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
      return { items: rows.slice(0, query.limit).map(toStored), more, revision: this.newestRevision() }
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
      this.filterIndex.update(dcname, last, undefined)
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
      const compactedUpTo = oldest?.revision != null ? Number(oldest.revision) - 1 : this.newestRevision()
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

  async currentRevision(): Promise<number> {
    return this.read(() => this.newestRevision())
  }

  async ping(): Promise<void> {
    this.read(() => this.statements.ping.get())
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.commits.commitQueued()
    this.snapshot.end()
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
    const before = previousBody === undefined ? undefined : (JSON.parse(previousBody) as Config)
    this.filterIndex.update(config.dcname, before, config)
    return { config, revision }
  }

  private appendEvent(type: ChangeType, config: Config, body: string, previous?: string): number {
    const appended = this.statements.appendEvent.get(type, config.dcname, body, previous ?? null)
    const { revision } = appended as { revision: number }
    this.commits.record({ type, config, revision })
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

  private newestRevision(): number {
    const row = this.statements.currentRevision.get() as { seq: number } | undefined | null
    return row ? Number(row.seq) : 0
  }

  /** Queues a write for the next group commit (see GroupCommit); settles once it is durable. */
  private enqueue<T>(work: () => T): Promise<T> {
    this.ensureOpen()
    return this.commits.enqueue(work)
  }

  /** Runs `work` in this turn's read snapshot (see TurnSnapshot). */
  private read<T>(work: () => T): T {
    this.ensureOpen()
    return this.snapshot.read(work)
  }
}

function prepareStatements(db: SqliteDatabase) {
  return {
    get: db.prepare('SELECT body, revision FROM configs WHERE dcname = ?'),
    revisionOf: db.prepare('SELECT revision FROM configs WHERE dcname = ?'),
    count: db.prepare('SELECT count(*) AS n FROM configs'),
    upsert: db.prepare(
      `INSERT INTO configs (dcname, body, revision) VALUES (?, ?, ?)
       ON CONFLICT (dcname) DO UPDATE SET body = excluded.body, revision = excluded.revision`,
    ),
    remove: db.prepare('DELETE FROM configs WHERE dcname = ?'),
    appendEvent: db.prepare('INSERT INTO events (type, dcname, body, previous) VALUES (?, ?, ?, ?) RETURNING revision'),
    pruneEvents: db.prepare('DELETE FROM events WHERE revision <= ?'),
    oldestEvent: db.prepare('SELECT min(revision) AS revision FROM events'),
    eventsAfter: db.prepare('SELECT type, body, previous, revision FROM events WHERE revision > ? ORDER BY revision'),
    currentRevision: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    ping: db.prepare('SELECT 1 AS ok'),
  }
}

function toStored(row: Row): StoredConfig {
  return { config: JSON.parse(row.body) as Config, revision: Number(row.revision) }
}
