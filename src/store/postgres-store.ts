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
 */
import postgres, { type Sql, type TransactionSql } from 'postgres'
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
import { CHANGES_CHANNEL, PostgresChangeFeed } from './postgres-changes.ts'
import { migrate } from './postgres-migrations.ts'

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
}

/** Bodies are read as text and parsed here, whatever type parsers the client has set up. */
type Row = { body: string; revision: string }
type Slot = { revision: number; compactedThrough: number }
type WriteResult = StoredConfig | ReplaceResult | number | boolean

export class PostgresConfigStore implements ConfigStore {
  readonly backend = 'postgres'

  /** The end of this replica's queue of writes (see `write`). */
  private writeTail: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly sql: Sql,
    private readonly feed: PostgresChangeFeed,
    private readonly historySize: number,
    /** A write that waited this long in the queue gives up before it starts (0: never). */
    private readonly queueTimeoutMs: number,
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
      const from = await withRetries(options.connectRetries ?? 10, async () => {
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
      return new PostgresConfigStore(sql, feed, historySize, statementTimeoutMs)
    } catch (error) {
      await sql.end({ timeout: 0 }).catch(() => {})
      throw unavailableOrRethrow(error)
    }
  }

  async get(dcname: string): Promise<StoredConfig | undefined> {
    const [row] = await this.query(
      () => this.sql<Row[]>`SELECT body::text, revision FROM configs WHERE dcname = ${dcname}`,
    )
    return row ? toStored(row) : undefined
  }

  async list(query: ListQuery): Promise<ListPage> {
    // One statement, one snapshot: the page and its revision agree.
    const rows = await this.query(
      () => this.sql<(Row & { store_revision: string; dcname: string | null })[]>`
        SELECT s.revision AS store_revision, c.dcname, c.body::text, c.revision
        FROM store_state s
        LEFT JOIN LATERAL (
          SELECT dcname, body, revision FROM configs
          WHERE ${this.conditions(query)}
          ORDER BY dcname LIMIT ${query.limit + 1}
        ) c ON true
        ORDER BY c.dcname`,
    )
    const found = rows.filter((row) => row.dcname !== null)
    return {
      items: found.slice(0, query.limit).map(toStored),
      more: found.length > query.limit,
      revision: Number(rows[0]?.store_revision ?? 0),
    }
  }

  async count(): Promise<number> {
    const [row] = await this.query(() => this.sql<{ n: number }[]>`SELECT count(*)::integer AS n FROM configs`)
    return row?.n ?? 0
  }

  async create(config: Config): Promise<StoredConfig> {
    return this.write(async (tx) => {
      const { slot, current } = await this.lockAndRead(tx, config.dcname)
      if (current) throw new ConflictError(config.dcname)
      return this.put(tx, slot, 'ADDED', config)
    })
  }

  async replace(config: Config, precondition: Precondition): Promise<ReplaceResult> {
    return this.write(async (tx) => {
      const { slot, current } = await this.lockAndRead(tx, config.dcname)
      checkPrecondition(config.dcname, revisionOf(current), precondition)
      const created = current === undefined
      return { stored: await this.put(tx, slot, created ? 'ADDED' : 'MODIFIED', config), created }
    })
  }

  async update(dcname: string, change: (current: Config) => Config, precondition: Precondition): Promise<StoredConfig> {
    return this.write(async (tx) => {
      const { slot, current } = await this.lockAndRead(tx, dcname)
      checkPrecondition(dcname, revisionOf(current), precondition)
      if (!current) throw new NotFoundError(dcname)
      return this.put(tx, slot, 'MODIFIED', change(JSON.parse(current.body) as Config))
    })
  }

  async delete(dcname: string, precondition: Precondition): Promise<number> {
    return this.write(async (tx) => {
      const { slot, current } = await this.lockAndRead(tx, dcname)
      checkPrecondition(dcname, revisionOf(current), precondition)
      if (!current) throw new NotFoundError(dcname)
      // The DELETED event carries the last state, copied in SQL so its text is kept exactly.
      await tx`
        WITH gone AS (DELETE FROM configs WHERE dcname = ${dcname} RETURNING dcname, body),
        event AS (
          INSERT INTO events (revision, type, dcname, body)
          SELECT ${slot.revision}, 'DELETED', dcname, body FROM gone
        ),
        pruned AS (DELETE FROM events WHERE revision <= ${slot.compactedThrough})
        SELECT pg_notify(${CHANGES_CHANNEL}, ${String(slot.revision)})`
      return slot.revision
    })
  }

  async seed(configs: Config[]): Promise<boolean> {
    return this.write(async (tx) => {
      // The write lock first, so replicas starting together seed once between them.
      const [state] = await tx<{ seeded_at: Date | null }[]>`SELECT seeded_at FROM store_state FOR UPDATE`
      if (state?.seeded_at) return false
      const [{ n } = { n: 0 }] = await tx<{ n: number }[]>`SELECT count(*)::integer AS n FROM configs`
      if (n === 0) for (const config of configs) await this.put(tx, await this.nextRevision(tx), 'ADDED', config)
      await tx`UPDATE store_state SET seeded_at = now()`
      return n === 0
    })
  }

  async eventsSince(since: number): Promise<ChangeEvent[]> {
    const rows = await this.query(
      () => this.sql<
        {
          compacted_through: string
          type: ChangeType
          body: string
          previous: string | null
          revision: string | null
        }[]
      >`
        SELECT s.compacted_through, e.type, e.body::text, e.previous::text, e.revision
        FROM store_state s LEFT JOIN events e ON e.revision > ${since}
        ORDER BY e.revision`,
    )
    const compactedThrough = Number(rows[0]?.compacted_through ?? 0)
    if (since < compactedThrough) throw new HistoryCompactedError(since, compactedThrough)
    return rows
      .filter((row) => row.revision !== null)
      .map((row) => ({
        type: row.type,
        config: JSON.parse(row.body) as Config,
        revision: Number(row.revision),
        ...(row.previous === null ? {} : { previous: JSON.parse(row.previous) as Config }),
      }))
  }

  subscribe(listener: ChangeListener, onLost?: (error: HistoryCompactedError) => void): () => void {
    return this.feed.subscribe(listener, onLost)
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
   * Runs `work` in one transaction; once it committed, this replica's subscribers hear of it.
   * Writes of one replica queue here, one at a time: the database runs them one at a time
   * anyway (the counter row), and a crowd of transactions all waiting on that one row lock
   * hands it on more slowly than one per replica does (measured: about twice the writes per
   * second with 16 concurrent writers on this 2-core machine). The queue wait counts against
   * the statement timeout, so an overloaded replica still answers 503 rather than hanging.
   */
  private async write<T extends WriteResult>(work: (tx: TransactionSql) => Promise<T>): Promise<T> {
    const queued = Date.now()
    const run = this.writeTail.then(async () => {
      if (this.queueTimeoutMs > 0 && Date.now() - queued > this.queueTimeoutMs) {
        throw new StoreUnavailableError(new Error(`waited over ${this.queueTimeoutMs} ms for earlier writes`))
      }
      return (await this.query(() => this.sql.begin(work))) as T
    })
    this.writeTail = run.catch(() => {})
    const result = await run
    this.feed.wake(committedRevision(result))
    return result
  }

  /**
   * Takes the write lock and the next revision, then reads the config as it is now. Both
   * statements go out together (one round trip); the server runs them in order, so the read's
   * snapshot is taken only once the lock is held.
   */
  private async lockAndRead(tx: TransactionSql, dcname: string): Promise<{ slot: Slot; current: Row | undefined }> {
    const [slot, rows] = await Promise.all([
      this.nextRevision(tx),
      tx<Row[]>`SELECT body::text, revision FROM configs WHERE dcname = ${dcname} FOR UPDATE`,
    ])
    return { slot, current: rows[0] }
  }

  private async nextRevision(tx: TransactionSql): Promise<Slot> {
    const [row] = await tx<{ revision: string; compacted_through: string }[]>`
      UPDATE store_state
      SET revision = revision + 1,
          compacted_through = greatest(compacted_through, revision + 1 - ${this.historySize})
      RETURNING revision, compacted_through`
    if (!row) throw new Error('store_state has no row: the schema is not migrated')
    return { revision: Number(row.revision), compactedThrough: Number(row.compacted_through) }
  }

  /**
   * Stores the config, appends its event, prunes the history, and notifies: one statement. A
   * MODIFIED event keeps the state it replaces, copied in SQL: every part of the statement sees
   * the configs table as it was before the statement.
   */
  private async put(tx: TransactionSql, slot: Slot, type: ChangeType, config: Config): Promise<StoredConfig> {
    // Sent as text: given a json parameter, the client would stringify the string once more.
    const body = JSON.stringify(config)
    const previous =
      type === 'MODIFIED' ? tx`(SELECT body FROM configs WHERE dcname = ${config.dcname})` : tx`NULL::json`
    await tx`
      WITH stored AS (
        INSERT INTO configs (dcname, body, revision) VALUES (${config.dcname}, ${body}::text::json, ${slot.revision})
        ON CONFLICT (dcname) DO UPDATE SET body = excluded.body, revision = excluded.revision
      ),
      event AS (
        INSERT INTO events (revision, type, dcname, body, previous)
        VALUES (${slot.revision}, ${type}, ${config.dcname}, ${body}::text::json, ${previous})
      ),
      pruned AS (DELETE FROM events WHERE revision <= ${slot.compactedThrough})
      SELECT pg_notify(${CHANGES_CHANNEL}, ${String(slot.revision)})`
    return { config, revision: slot.revision }
  }

  private conditions(query: ListQuery) {
    const parts = [this.sql`true`]
    if (query.after !== undefined) parts.push(this.sql`dcname > ${query.after}`)
    for (const filter of query.filters) parts.push(this.matches(filter))
    return parts.reduce((all, part) => this.sql`${all} AND ${part}`)
  }

  /**
   * As in the SQLite store: a scalar leaf matches when its JSON text equals the value, a string
   * leaf when its content does (so `true` matches both true and "true"); objects and arrays never.
   */
  private matches(filter: Filter) {
    if (filter.path.length === 1 && filter.path[0] === 'dcname') return this.sql`dcname = ${filter.value}`
    const path = textArray(filter.path)
    const leaf = this.sql`(CASE json_typeof(body #> ${path}::text[])
      WHEN 'string' THEN (body #>> ${path}::text[]) = ${filter.value}
      WHEN 'object' THEN false WHEN 'array' THEN false
      ELSE (body #> ${path}::text[])::text = ${filter.value} END)`
    // `#>` would index into an array with a numeric segment; SQLite and the watch filter walk
    // objects only, so each parent that such a segment steps into must be an object here too.
    return filter.path
      .map((segment, i) => ({ segment, parent: filter.path.slice(0, i) }))
      .filter(({ segment, parent }) => parent.length > 0 && /^-?\d+$/.test(segment))
      .reduce(
        (all, { parent }) => this.sql`${all} AND json_typeof(body #> ${textArray(parent)}::text[]) = 'object'`,
        leaf,
      )
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

async function currentRevision(sql: Sql): Promise<number> {
  const [row] = await sql<{ revision: string }[]>`SELECT revision FROM store_state`
  return Number(row?.revision ?? 0)
}

/** A PostgreSQL array literal; segments are quoted so '-' and the like stay literal. */
function textArray(segments: string[]): string {
  return `{${segments.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`
}

/** Start-up only: a database that is still starting (or restarting) is waited for, briefly. */
async function withRetries<T>(retries: number, attempt: () => Promise<T>): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await attempt()
    } catch (error) {
      if (failures >= retries || !isUnavailable(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, 5000)))
    }
  }
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
])

/**
 * Unreachable, shutting down, out of connections, too slow (statement timeout), or read-only
 * after a failover: the request may well succeed later, so it is a 503, not a 500.
 * SQLSTATE classes: 08 connection, 53 insufficient resources, 57 operator intervention,
 * 40 transaction rollback, 25006 read-only transaction.
 */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return false
  if (CONNECTION_ERRORS.has(code)) return true
  return /^[0-9A-Z]{5}$/.test(code) && (/^(08|53|57|40)/.test(code) || code === '25006')
}

function unavailableOrRethrow(error: unknown): unknown {
  return isUnavailable(error) ? new StoreUnavailableError(error) : error
}
