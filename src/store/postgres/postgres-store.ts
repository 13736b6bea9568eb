/**
 * ConfigStore on PostgreSQL, for several replicas sharing one database.
 *
 * Every write is one transaction that first bumps the counter row in `store_state`
 * (`UPDATE ... SET revision = revision + 1`). That row lock is the store-wide write lock: it
 * serializes writers across all replicas, so revisions commit in order and a precondition
 * checked after taking it cannot be overtaken by another writer (no lost updates, no two
 * creators of one dcname). The config is read only after the lock is held, in a statement of
 * its own, so under READ COMMITTED it sees the previous writer's commit. A write that fails
 * rolls back, its revision with it, so revisions have no gaps.
 * Commits wait for fsync, as PostgreSQL does by default: an acknowledged write is durable.
 *
 * Beside this file: the schema (postgres-migrations.ts), the statements (postgres-queries.ts),
 * the queue of this replica's writes (write-queue.ts) and the change feed (postgres-changes.ts).
 */
import postgres, { type Sql, type TransactionSql } from 'postgres'
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
} from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'
import { PostgresChangeFeed } from './postgres-changes.ts'
import { isUnavailable, unavailableOrRethrow, withoutPassword } from './postgres-errors.ts'
import { migrate } from './postgres-migrations.ts'
import {
  changeEventOf,
  countConfigs,
  currentRevision,
  deleteConfig,
  lockAndRead,
  nextRevision,
  putConfig,
  type Row,
  type Slot,
  selectConfig,
  selectEventsAfter,
  selectPage,
} from './postgres-queries.ts'
import { WriteQueue } from './write-queue.ts'

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string
  /** How many past events are kept for watch replay. */
  historySize?: number
  /** Connections in the pool (one more is opened for LISTEN). */
  poolSize?: number
  /**
   * Server-side limit for one statement, waiting for the write lock included; it also bounds
   * how long a write waits behind the earlier writes of this handle. 0 means none.
   */
  statementTimeoutMs?: number
  /** Limit for establishing one connection. */
  connectTimeoutMs?: number
  /** How many more times start-up tries to reach the database before it gives up. */
  connectRetries?: number
  /** How often the change feed retries a lost LISTEN. */
  feedRetryMs?: number
  /** Told of each failed start-up attempt that will be retried, so the wait is not silent. */
  onConnectRetry?: (retry: ConnectRetry) => void
}

/** One failed attempt to reach the database at start-up, before the next one. */
export interface ConnectRetry {
  /** 1 for the first attempt. */
  attempt: number
  /** Attempts there will be at most: 1 + DATABASE_CONNECT_RETRIES. */
  attempts: number
  delayMs: number
  /** The error's message, with the URL's password blanked out. */
  cause: string
}

type WriteResult = StoredConfig | ReplaceResult | number | boolean

export class PostgresConfigStore implements ConfigStore {
  readonly backend = 'postgres'

  private constructor(
    private readonly sql: Sql,
    private readonly feed: PostgresChangeFeed,
    private readonly historySize: number,
    private readonly writes: WriteQueue,
  ) {}

  /** Connects (retrying while the database is unreachable), migrates, and starts the change feed. */
  static async open(options: PostgresStoreOptions): Promise<PostgresConfigStore> {
    const historySize = options.historySize ?? 10_000
    const statementTimeoutMs = options.statementTimeoutMs ?? 5000
    const common = {
      connect_timeout: (options.connectTimeoutMs ?? 5000) / 1000,
      // The client's default backoff grows to 20 s between reconnects; a config service
      // should notice a returning database within about a second.
      backoff: (attempt: number) => Math.min(0.025 * 2 ** attempt, 0.5) * (0.5 + Math.random() / 2),
      fetch_types: false,
      onnotice: () => {},
      connection: {
        application_name: 'config-service',
        statement_timeout: statementTimeoutMs,
        // A replica that stalls mid-write must not hold the store-wide write lock for long.
        idle_in_transaction_session_timeout: statementTimeoutMs === 0 ? 0 : Math.max(statementTimeoutMs, 1000),
      },
    }
    const sql = postgres(options.url, { ...common, max: options.poolSize ?? 10, idle_timeout: 60 })
    try {
      const retries = options.connectRetries ?? 10
      const onRetry = (attempt: number, delayMs: number, error: unknown) =>
        options.onConnectRetry?.({
          attempt,
          attempts: retries + 1,
          delayMs,
          cause: withoutPassword(error, options.url),
        })
      const from = await withRetries(retries, onRetry, async () => {
        await migrate(sql)
        return currentRevision(sql)
      })
      let feed: PostgresChangeFeed | undefined
      // The client reads `onnotify` (used by its own listen()) but its type definitions omit it,
      // hence a variable rather than a literal. One connection, kept open for good: LISTEN lives
      // on it, so it must neither idle out nor be recycled.
      const listenOptions = {
        ...common,
        max: 1,
        idle_timeout: 0,
        max_lifetime: null,
        onnotify: (_channel: string, payload: string) => feed?.notified(payload),
        onclose: () => feed?.disconnected(),
      }
      const listenSql = postgres(options.url, listenOptions)
      feed = new PostgresChangeFeed({ sql, listenSql, retryMs: options.feedRetryMs ?? 1000 }, from)
      return new PostgresConfigStore(sql, feed, historySize, new WriteQueue(statementTimeoutMs))
    } catch (error) {
      await sql.end({ timeout: 0 }).catch(() => {})
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

  async create(config: Config): Promise<StoredConfig> {
    return this.write(async (tx) => {
      const { slot, current } = await lockAndRead(tx, config.dcname, this.historySize)
      if (current) throw new ConflictError(config.dcname)
      return this.put(tx, slot, 'ADDED', config)
    })
  }

  async replace(config: Config, precondition: Precondition): Promise<ReplaceResult> {
    return this.write(async (tx) => {
      const { slot, current } = await lockAndRead(tx, config.dcname, this.historySize)
      checkPrecondition(config.dcname, revisionOf(current), precondition)
      const created = current === undefined
      return { stored: await this.put(tx, slot, created ? 'ADDED' : 'MODIFIED', config), created }
    })
  }

  async update(dcname: string, change: (current: Config) => Config, precondition: Precondition): Promise<StoredConfig> {
    return this.write(async (tx) => {
      const { slot, current } = await lockAndRead(tx, dcname, this.historySize)
      checkPrecondition(dcname, revisionOf(current), precondition)
      if (!current) throw new NotFoundError(dcname)
      return this.put(tx, slot, 'MODIFIED', change(JSON.parse(current.body) as Config))
    })
  }

  async delete(dcname: string, precondition: Precondition): Promise<number> {
    return this.write(async (tx) => {
      const { slot, current } = await lockAndRead(tx, dcname, this.historySize)
      checkPrecondition(dcname, revisionOf(current), precondition)
      if (!current) throw new NotFoundError(dcname)
      await deleteConfig(tx, slot, dcname)
      return slot.revision
    })
  }

  async seed(configs: Config[]): Promise<boolean> {
    return this.write(async (tx) => {
      // The write lock first, so replicas starting together seed once between them.
      const [state] = await tx<{ seeded_at: Date | null }[]>`SELECT seeded_at FROM store_state FOR UPDATE`
      if (state?.seeded_at) return false
      const n = await countConfigs(tx)
      if (n === 0) {
        for (const config of configs) await this.put(tx, await nextRevision(tx, this.historySize), 'ADDED', config)
      }
      await tx`UPDATE store_state SET seeded_at = now()`
      return n === 0
    })
  }

  async eventsSince(since: number): Promise<ChangeEvent[]> {
    const rows = await this.query(() => selectEventsAfter(this.sql, since))
    const compactedThrough = Number(rows[0]?.compacted_through ?? 0)
    if (since < compactedThrough) throw new HistoryCompactedError(since, compactedThrough)
    return rows.filter((row) => row.revision !== null).map(changeEventOf)
  }

  subscribe(listener: ChangeListener, onLost?: (error: HistoryCompactedError) => void): () => void {
    return this.feed.subscribe(listener, onLost)
  }

  currentRevision(): Promise<number> {
    return this.query(() => currentRevision(this.sql))
  }

  async ping(): Promise<void> {
    await this.query(() => this.sql`SELECT 1`)
  }

  async close(): Promise<void> {
    await this.feed.close()
    // Requests have drained by the time a service closes its store. The timeout matters for a
    // connection the server killed earlier: the client may wait for it until the timeout.
    await this.sql.end({ timeout: 1 })
  }

  /**
   * Runs `work` in one transaction, in turn with this replica's other writes (see WriteQueue);
   * once it committed, this replica's subscribers hear of it.
   */
  private async write<T extends WriteResult>(work: (tx: TransactionSql) => Promise<T>): Promise<T> {
    const result = await this.writes.run(async () => (await this.query(() => this.sql.begin(work))) as T)
    this.feed.wake(committedRevision(result))
    return result
  }

  private async put(tx: TransactionSql, slot: Slot, type: ChangeType, config: Config): Promise<StoredConfig> {
    await putConfig(tx, slot, type, config)
    return { config, revision: slot.revision }
  }

  private async query<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      throw unavailableOrRethrow(error)
    }
  }
}

function toStored(row: Row): StoredConfig {
  return { config: JSON.parse(row.body) as Config, revision: Number(row.revision) }
}

function revisionOf(row: Row | undefined): number | undefined {
  return row === undefined ? undefined : Number(row.revision)
}

function committedRevision(result: WriteResult): number | undefined {
  if (typeof result === 'number') return result
  if (typeof result === 'boolean') return undefined
  return 'stored' in result ? result.stored.revision : result.revision
}

/** Start-up only: a database that is still starting (or restarting) is waited for, briefly. */
async function withRetries<T>(
  retries: number,
  onRetry: (attempt: number, delayMs: number, error: unknown) => void,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await attempt()
    } catch (error) {
      if (failures >= retries || !isUnavailable(error)) throw error
      const delayMs = Math.min(250 * 2 ** failures, 5000)
      onRetry(failures + 1, delayMs, error)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
    }
  }
}
