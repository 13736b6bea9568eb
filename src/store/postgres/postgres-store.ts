/**
 * ConfigStore on PostgreSQL, for several replicas sharing one database.
 *
 * Every write first bumps the counter row in `store_state` (`UPDATE ... SET revision =
 * revision + 1`) in its transaction. That row lock is the store-wide write lock: it
 * serializes writers across all replicas, so revisions commit in order and a precondition
 * checked after taking it cannot be overtaken by another writer (no lost updates, no two
 * creators of one dcname). The config is read only after the lock is held, in a statement of
 * its own, so under READ COMMITTED it sees the previous writer's commit. A write that fails
 * rolls back (to its savepoint), its revision with it, so revisions have no gaps (but schema
 * writes take revisions too, without an event: postgres-schemas.ts). Config writes queued
 * together take the lock and read once for all of them and store in one statement
 * (config-writes.ts); one the domain refuses is left out of it and takes no revision.
 * Commits wait for fsync, as PostgreSQL does by default: an acknowledged write is durable.
 *
 * Beside this file: migrations, statements (postgres-queries.ts), group commit, the change feed
 * (postgres-changes.ts), history and retention, connecting, config schemas (postgres-schemas.ts).
 */
import postgres, { type Sql } from 'postgres'
import {
  type ChangePage,
  type ChangePageQuery,
  type ConfigStore,
  HistoryCompactedError,
  type HistoryPage,
  type HistoryQuery,
  type ListPage,
  type ListQuery,
  type Precondition,
  type ReplaceResult,
  type StoredConfig,
  type WriteMeta,
} from '../../configs/config-store.ts'
import { writeOrDryRun } from '../../configs/dry-run.ts'
import type { Config } from '../../configs/model.ts'
import { checkRollback } from '../../configs/revision-rules.ts'
import { SchemaValidators } from '../../configs/schema-validator.ts'
import { type DeleteWrite, decideWrite, type StoreWrite } from '../../configs/write-rules.ts'
import { changePageOf } from '../change-event.ts'
import { RetentionSchedule } from '../retention.ts'
import { type ConfigWritePlan, ConfigWrites, plans } from './config-writes.ts'
import { GroupCommit } from './group-commit.ts'
import { PostgresChangeFeed } from './postgres-changes.ts'
import {
  type ConnectRetry,
  clientOptions,
  listenClient,
  openAhead,
  type PostgresStoreOptions,
  withRetries,
} from './postgres-connect.ts'
import { unavailableOrRethrow, withoutPassword } from './postgres-errors.ts'
import { PostgresHistory } from './postgres-history.ts'
import { migrateAndReadRevision } from './postgres-migrations.ts'
import {
  countConfigs,
  currentRevision,
  lockAndRead,
  selectChangesAfter,
  selectConfig,
  selectPage,
  slotFor,
  toStored,
} from './postgres-queries.ts'
import { PostgresSchemaHistory } from './postgres-schema-history.ts'
import { PostgresSchemas, type SchemaWork } from './postgres-schemas.ts'
import { newestRevision, type WriteResult } from './write-results.ts'

export type { ConnectRetry, PostgresStoreOptions }

export class PostgresConfigStore implements ConfigStore {
  readonly backend = 'postgres'
  readonly schemas: PostgresSchemas

  private readonly pruning: RetentionSchedule

  private constructor(
    private readonly sql: Sql,
    private readonly feed: PostgresChangeFeed,
    private readonly historySize: number,
    private readonly writes: GroupCommit<WriteResult, ConfigWritePlan>,
    private readonly configWrites: ConfigWrites,
    private readonly entries: PostgresHistory,
    now: () => number,
    pruneIntervalMs: number,
  ) {
    this.pruning = new RetentionSchedule(entries.retentionTarget(), pruneIntervalMs)
    const write = (meta: WriteMeta, work: SchemaWork) => this.write(undefined, meta, work)
    const access = { query: this.query.bind(this), write, subscribe: this.subscribe }
    this.schemas = new PostgresSchemas(
      sql,
      access,
      configWrites.validators,
      new PostgresSchemaHistory(entries.retention, now),
    )
  }

  /** Connects (retrying while the database is unreachable), migrates, and starts the change feed. */
  static async open(options: PostgresStoreOptions): Promise<PostgresConfigStore> {
    const historySize = options.historySize ?? 10_000
    const common = clientOptions(options)
    const sql = postgres(options.url, { ...common, max: options.poolSize ?? 10, idle_timeout: 60 })
    let feed: PostgresChangeFeed | undefined
    const listenSql = listenClient(options.url, common, {
      notified: (payload) => feed?.notified(payload),
      disconnected: () => feed?.disconnected(),
    })
    try {
      const retries = options.connectRetries ?? 10
      const onRetry = (attempt: number, delayMs: number, error: unknown) =>
        options.onConnectRetry?.({
          attempt,
          attempts: retries + 1,
          delayMs,
          cause: withoutPassword(error, options.url),
        })
      const from = await withRetries(retries, onRetry, () => {
        openAhead(listenSql, sql)
        return migrateAndReadRevision(sql)
      })
      feed = new PostgresChangeFeed({ sql, listenSql, retryMs: options.feedRetryMs ?? 1000, historySize }, from)
      const now = options.now ?? Date.now
      const retention = options.retention ?? { keep: 20, days: 30 }
      const history = new PostgresHistory(sql, { retention, historySize, now })
      const configWrites = new ConfigWrites(new SchemaValidators(), now)
      const writes = new GroupCommit<WriteResult, ConfigWritePlan>(
        sql,
        common.connection.statement_timeout,
        (results) => feed?.wake(newestRevision(results)),
        (tx, plans, late) => configWrites.many(tx, plans, late),
      )
      const pruneMs = options.pruneIntervalMs ?? 1000
      return new PostgresConfigStore(sql, feed, historySize, writes, configWrites, history, now, pruneMs)
    } catch (error) {
      await Promise.all([sql, listenSql].map((client) => client.end({ timeout: 0 }).catch(() => {})))
      throw unavailableOrRethrow(error)
    }
  }

  async get(dcname: string): Promise<StoredConfig | undefined> {
    const row = await this.query(() => selectConfig(this.sql, dcname))
    return row ? toStored(row) : undefined
  }

  async list(query: ListQuery): Promise<ListPage> {
    const rows = await this.query(() => selectPage(this.sql, query))
    const found = rows.filter((row) => row.dcname !== null)
    return {
      items: found.slice(0, query.limit).map(toStored),
      more: found.length > query.limit,
      revision: Number(rows[0]?.store_revision ?? 0),
    }
  }

  async count(): Promise<number> {
    return this.query(() => countConfigs(this.sql))
  }

  async create(config: Config, meta: WriteMeta): Promise<StoredConfig> {
    return this.configWrite(plans.create(config, meta))
  }

  async replace(config: Config, precondition: Precondition, meta: WriteMeta): Promise<ReplaceResult> {
    return this.configWrite(plans.replace(config, precondition, meta))
  }

  async update(
    dcname: string,
    change: (current: Config) => Config,
    precondition: Precondition,
    meta: WriteMeta,
  ): Promise<StoredConfig> {
    return this.configWrite(plans.update(dcname, change, precondition, meta))
  }

  async delete(dcname: string, precondition: Precondition, meta: WriteMeta): Promise<number> {
    return this.configWrite(plans.delete(dcname, precondition, meta))
  }

  /** Under the write lock, as every write: the precondition and the past state cannot change meanwhile. */
  async rollback(
    dcname: string,
    revision: number,
    precondition: Precondition,
    meta: WriteMeta,
  ): Promise<ReplaceResult> {
    return this.write(dcname, meta, async (tx) => {
      const { slot, current } = await lockAndRead(tx, dcname)
      // The slot is the revision this write takes: the one before it is the newest committed.
      const currentRevision = slot.revision - 1
      checkRollback({ dcname, revision, currentRevision, configRevision: current?.revision, precondition })
      const past = await this.entries.stateAt(tx, dcname, revision)
      const write = decideWrite({ kind: 'rollback', dcname, revision, past }, current)
      const stored = await this.configWrites.put(tx, slot, write, { ...meta, rollbackOf: revision })
      return { stored, created: write.created }
    })
  }

  async seed(configs: Config[], meta: WriteMeta): Promise<boolean> {
    return this.write(undefined, meta, async (tx) => {
      // The write lock first, so replicas starting together seed once between them.
      const [state] = await tx<{ seeded_at: Date | null }[]>`SELECT seeded_at FROM store_state FOR UPDATE`
      if (state?.seeded_at) return false
      const n = await countConfigs(tx)
      if (n === 0) {
        for (const config of configs) {
          const write = { type: 'ADDED', config, created: true } as const
          await this.configWrites.put(tx, await slotFor(tx, config.dcname), write, meta)
        }
      }
      await tx`UPDATE store_state SET seeded_at = now()`
      return n === 0
    })
  }

  async history(dcname: string, query: HistoryQuery): Promise<HistoryPage> {
    return this.query(() => this.entries.page(dcname, query))
  }

  async getAt(dcname: string, revision: number): Promise<StoredConfig | undefined> {
    return this.query(() => this.entries.stateAt(this.sql, dcname, revision))
  }

  async countHistory(): Promise<number> {
    return this.query(() => this.entries.count())
  }

  droppedHistory(): number {
    return this.entries.dropped
  }

  /** Retention now, instead of at the next tick of its timer. */
  pruneHistory(): Promise<void> {
    return this.pruning.pass()
  }

  async changesAfter(query: ChangePageQuery): Promise<ChangePage> {
    const rows = await this.query(() => selectChangesAfter(this.sql, query, this.historySize))
    const compactedThrough = Number(rows[0]?.compacted_through ?? 0)
    if (query.after < compactedThrough) throw new HistoryCompactedError(query.after, compactedThrough)
    return changePageOf(rows, query)
  }

  subscribe: ConfigStore['subscribe'] = (...args) => this.feed.subscribe(...args)

  currentRevision(): Promise<number> {
    return this.query(() => currentRevision(this.sql))
  }

  async ping(): Promise<void> {
    await this.query(() => this.sql`SELECT 1`)
  }

  async close(): Promise<void> {
    this.writes.close()
    await this.pruning.close()
    await this.feed.close()
    // Requests have drained by the time a service closes its store. The timeout matters for a
    // connection the server killed earlier: the client may wait for it until the timeout.
    await this.sql.end({ timeout: 1 })
  }

  /** In a transaction shared with this replica's other writes (GroupCommit); undone when a dry run. */
  private async write<T extends WriteResult>(
    dcname: string | undefined,
    meta: WriteMeta,
    work: (tx: Sql) => Promise<T>,
    plan?: ConfigWritePlan,
  ): Promise<T> {
    // A dry run undoes itself by failing in its savepoint: it runs alone, never together.
    const enqueue = (w: (tx: Sql) => Promise<T>) => this.writes.run(w, meta.dryRun ? undefined : plan)
    const result = await writeOrDryRun(meta.dryRun, enqueue, work)
    if (dcname !== undefined && !meta.dryRun) this.pruning.wrote(dcname)
    return result
  }

  /** A config write: alone or together with the config writes queued next to it (config-writes.ts). */
  private configWrite<W extends StoreWrite | DeleteWrite, T extends WriteResult>(
    plan: ConfigWritePlan<W, T>,
  ): Promise<T> {
    const work = (tx: Sql) => this.configWrites.alone(tx, plan)
    return this.write(plan.dcname, plan.meta, work, plan as unknown as ConfigWritePlan)
  }

  private async query<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      throw unavailableOrRethrow(error)
    }
  }
}
