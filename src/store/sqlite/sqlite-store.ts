/**
 * ConfigStore on one SQLite file. Every write is one IMMEDIATE transaction that takes the next
 * store-wide revision from the `events` table (also the watch history and each config's history),
 * so revisions strictly increase and a read-modify-write cannot interleave with another writer.
 * WAL with synchronous=FULL: a write acknowledged to the client survives kill -9.
 *
 * One module per mechanism: migrations (sqlite-migrations.ts), group commit (group-commit.ts),
 * per-turn read snapshots (read-snapshot.ts), lists (list-scan.ts), history and retention
 * (sqlite-history.ts), config schemas and the check of every write (sqlite-schemas.ts).
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  type ChangeEvent,
  type ChangeListener,
  type ChangePage,
  type ChangePageQuery,
  type ChangeType,
  type ConfigStore,
  HistoryCompactedError,
  type HistoryPage,
  type HistoryQuery,
  type ListPage,
  type ListQuery,
  type Precondition,
  type ReplaceResult,
  type StoredConfig,
  StoreUnavailableError,
  type WriteMeta,
} from '../../configs/config-store.ts'
import { writeOrDryRun } from '../../configs/dry-run.ts'
import type { Config } from '../../configs/model.ts'
import { checkRevisionReached, checkRollback } from '../../configs/revision-rules.ts'
import { decideWrite, type StoreWrite } from '../../configs/write-rules.ts'
import { changePageOf, eventDetailsOf } from '../change-event.ts'
import { RetentionSchedule } from '../retention.ts'
import { ChangeListeners } from './change-listeners.ts'
import { GroupCommit } from './group-commit.ts'
import { openChecked } from './integrity.ts'
import { ListScan } from './list-scan.ts'
import { SnapshotGroup, TurnSnapshot } from './read-snapshot.ts'
import type { SqliteDatabase } from './sqlite-driver.ts'
import { SqliteHistory } from './sqlite-history.ts'
import { migrate } from './sqlite-migrations.ts'
import type { SqliteStoreOptions } from './sqlite-options.ts'
import { SqliteSchemas } from './sqlite-schemas.ts'
import { appendEvent, type PageRow, prepareStatements, type Row, toStored } from './sqlite-statements.ts'
import { WriteDurability } from './write-durability.ts'

export class SqliteConfigStore implements ConfigStore {
  readonly backend = 'sqlite'
  readonly schemas: SqliteSchemas
  private readonly db: SqliteDatabase
  private readonly historySize: number
  private readonly statements: ReturnType<typeof prepareStatements>
  private readonly listeners = new ChangeListeners()
  private readonly lists: ListScan
  private readonly snapshot: TurnSnapshot
  private readonly commits: GroupCommit
  private readonly entries: SqliteHistory
  private readonly pruning: RetentionSchedule
  private readonly now: () => number
  private readonly durability: WriteDurability
  private closed = false

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
    this.db = openChecked(options.open, options.path)
    this.historySize = options.historySize ?? 10_000
    this.now = options.now ?? Date.now
    this.durability = new WriteDurability(options.onDurability)
    this.db.exec('PRAGMA journal_mode = WAL')
    this.db.exec('PRAGMA synchronous = FULL')
    this.db.exec('PRAGMA busy_timeout = 5000')
    migrate(this.db)
    this.statements = prepareStatements(this.db)
    this.lists = new ListScan(this.db)
    const revision = () => this.newestRevision()
    const schemaAccess = { read: this.read.bind(this), write: this.writeOrDryRun.bind(this), revision }
    this.schemas = new SqliteSchemas(this.db, schemaAccess, { retention: options.retention, now: this.now })
    this.entries = new SqliteHistory(this.db, { ...options, historySize: this.historySize, now: this.now })
    const snapshots = options.snapshots ?? new SnapshotGroup()
    this.snapshot = new TurnSnapshot(this.db, snapshots)
    this.commits = new GroupCommit(this.db, {
      beforeBegin: () => {
        this.ensureOpen()
        snapshots.endAll()
        this.durability.begin()
      },
      committed: (events) => {
        this.durability.committed()
        this.publish(events)
      },
      failed: (error) => this.durability.failed(error),
    })
    const access = { read: this.read.bind(this), write: this.enqueue.bind(this), revision }
    this.pruning = new RetentionSchedule(this.entries.retentionTarget(access), options.pruneIntervalMs ?? 1000)
  }

  async get(dcname: string): Promise<StoredConfig | undefined> {
    return this.read(() => {
      const row = this.statements.get.get(dcname) as Row | undefined | null
      return row ? toStored(row) : undefined
    })
  }

  async list(query: ListQuery): Promise<ListPage> {
    return this.read(() => ({ ...this.lists.page(query), revision: this.newestRevision() }))
  }

  async count(): Promise<number> {
    return this.read(() => Number((this.statements.count.get() as { n: number }).n))
  }

  async create(config: Config, meta: WriteMeta): Promise<StoredConfig> {
    return this.writeOrDryRun(meta, () =>
      this.put(decideWrite({ kind: 'create', config }, this.current(config.dcname)), meta),
    )
  }

  async replace(config: Config, precondition: Precondition, meta: WriteMeta): Promise<ReplaceResult> {
    return this.writeOrDryRun(meta, () => {
      const row = this.current(config.dcname)
      const write = decideWrite({ kind: 'replace', config, precondition }, row)
      return { stored: this.put(write, meta, row), created: write.created }
    })
  }

  async update(
    dcname: string,
    change: (current: Config) => Config,
    precondition: Precondition,
    meta: WriteMeta,
  ): Promise<StoredConfig> {
    return this.writeOrDryRun(meta, () => {
      const row = this.current(dcname)
      return this.put(decideWrite({ kind: 'update', dcname, change, precondition }, row), meta, row)
    })
  }

  async delete(dcname: string, precondition: Precondition, meta: WriteMeta): Promise<number> {
    return this.writeOrDryRun(meta, () => {
      const { last } = decideWrite({ kind: 'delete', dcname, precondition }, this.current(dcname))
      const revision = this.appendEvent('DELETED', JSON.parse(last.body) as Config, last.body, meta)
      this.statements.remove.run(dcname)
      return revision
    })
  }

  async rollback(
    dcname: string,
    revision: number,
    precondition: Precondition,
    meta: WriteMeta,
  ): Promise<ReplaceResult> {
    return this.writeOrDryRun(meta, () => {
      const row = this.current(dcname)
      const currentRevision = this.newestRevision()
      checkRollback({ dcname, revision, currentRevision, configRevision: row?.revision, precondition })
      const past = this.entries.stateAt(dcname, revision)
      const write = decideWrite({ kind: 'rollback', dcname, revision, past }, row)
      return { stored: this.put(write, { ...meta, rollbackOf: revision }, row), created: write.created }
    })
  }

  async seed(configs: Config[], meta: WriteMeta): Promise<boolean> {
    return this.enqueue(() => {
      if (this.statements.getMeta.get('seeded')) return false
      const empty = Number((this.statements.count.get() as { n: number }).n) === 0
      if (empty) for (const config of configs) this.put({ type: 'ADDED', config, created: true }, meta)
      this.statements.setMeta.run('seeded', new Date().toISOString())
      return empty
    })
  }

  async history(dcname: string, query: HistoryQuery): Promise<HistoryPage> {
    return this.read(() => this.entries.page(dcname, query))
  }

  async getAt(dcname: string, revision: number): Promise<StoredConfig | undefined> {
    return this.read(() => {
      checkRevisionReached(revision, this.newestRevision())
      return this.entries.stateAt(dcname, revision)
    })
  }

  async countHistory(): Promise<number> {
    return this.read(() => this.entries.count())
  }

  droppedHistory(): number {
    return this.entries.dropped
  }

  pruneHistory(): Promise<void> {
    return this.pruning.pass()
  }

  async changesAfter(query: ChangePageQuery): Promise<ChangePage> {
    const { after, limit, bytes } = query
    return this.read(() => {
      // Replay covers the newest `historySize` writes, and only as far back as nothing was dropped.
      const compactedUpTo = Math.max(this.entries.droppedThrough(), this.newestRevision() - this.historySize, 0)
      if (after < compactedUpTo) throw new HistoryCompactedError(after, compactedUpTo)
      const rows = this.statements.changesAfter.all(after, limit + 1, bytes) as PageRow[]
      return changePageOf(rows, query)
    })
  }

  subscribe(listener: ChangeListener): () => void {
    return this.listeners.subscribe(listener)
  }

  async currentRevision(): Promise<number> {
    return this.read(() => this.newestRevision())
  }

  /** While writes fail for a cause of the disk, a ping also tries one: readiness sees the end of it. */
  async ping(): Promise<void> {
    this.read(() => this.statements.ping.get())
    if (this.durability.problem === undefined) return
    await this.enqueue(() => this.statements.setMeta.run('write_probe', new Date(this.now()).toISOString()))
  }

  async close(): Promise<void> {
    if (this.closed) return
    // Not awaited: a pass still running finds the store closed and stops (its drops, if queued, commit now).
    void this.pruning.close()
    this.commits.commitQueued()
    this.snapshot.end()
    this.closed = true
    this.db.close()
  }

  /** bun:sqlite statements on a closed database quietly return nothing: refuse instead. */
  private ensureOpen(): void {
    if (this.closed) throw new StoreUnavailableError(new Error('the store is closed'))
  }

  /** The config as a write finds it: read inside the write's transaction, so under its lock. */
  private current(dcname: string): Row | undefined {
    return (this.statements.get.get(dcname) as Row | null) ?? undefined
  }

  /**
   * Stores what decideWrite decided, checked against the governing schema; a MODIFIED event keeps
   * the stored text it replaces (`current`) as its previous state.
   */
  private put({ type, config }: StoreWrite, meta: WriteMeta, current?: Row): StoredConfig {
    const warning = this.schemas.check(config)
    const body = JSON.stringify(config)
    const revision = this.appendEvent(type, config, body, meta, type === 'MODIFIED' ? current?.body : undefined)
    this.statements.upsert.run(config.dcname, body, revision)
    return warning ? { config, revision, warning } : { config, revision }
  }

  /** The write's event is its history entry: one row, in the write's transaction. */
  private appendEvent(type: ChangeType, config: Config, body: string, meta: WriteMeta, previous?: string): number {
    const entry = { type, dcname: config.dcname, body, previous, time: this.now(), ...meta }
    const revision = appendEvent(this.statements, entry)
    this.commits.record({ type, config, revision, json: body, ...eventDetailsOf(meta) })
    return revision
  }

  private publish(events: ChangeEvent[]): void {
    for (const event of events) {
      this.pruning.wrote(event.config.dcname)
      this.listeners.publish(event)
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

  /** A write, or with `meta.dryRun` the same write undone at its end (see dry-run.ts). */
  private writeOrDryRun<T>(meta: WriteMeta, work: () => T): Promise<T> {
    return writeOrDryRun(meta.dryRun, (w: (arg: undefined) => T) => this.enqueue(() => w(undefined)), work)
  }

  /** Runs `work` in this turn's read snapshot (see TurnSnapshot). */
  private read<T>(work: () => T): T {
    this.ensureOpen()
    return this.snapshot.read(work)
  }
}
