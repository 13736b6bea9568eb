/**
 * Config schemas in the PostgreSQL store: one row each in `schemas`. A schema write takes the
 * store's write lock and next revision (store_state) as a config write does, adds no event
 * (schemas are no configs: config watchers and history never see them) but a schema history
 * entry (postgres-schema-history.ts), and notifies with its revision, so every replica's feed
 * learns the store moved on (see PostgresChangeFeed.progress), and its schema feed reads it.
 */
import type { Sql } from 'postgres'
import type {
  ChangeListener,
  HistoryCompactedError,
  HistoryQuery,
  Precondition,
  WriteMeta,
} from '../../configs/config-store.ts'
import type {
  SchemaChangeListener,
  SchemaChangePage,
  SchemaFeedLost,
  SchemaHistoryPage,
} from '../../configs/schema-history.ts'
import {
  checkSchemaPrecondition,
  type SchemaDefinition,
  SchemaNotFoundError,
  SchemaPrefixTakenError,
  type SchemaPutResult,
  type SchemaRow,
  SchemaViolatorsError,
  type SchemaWriteOptions,
  type StoredSchema,
  storedSchemaOf,
  type ViolatorReport,
} from '../../configs/schema-model.ts'
import type { SchemaStore } from '../../configs/schema-store.ts'
import type { SchemaValidators } from '../../configs/schema-validator.ts'
import { collectViolators, withSchema } from '../../configs/schema-violators.ts'
import { SchemaFeed } from '../schema-feed.ts'
import { CHANGES_CHANNEL } from './postgres-changes.ts'
import { currentRevision, nextRevision } from './postgres-queries.ts'
import type { PostgresSchemaHistory } from './postgres-schema-history.ts'
import {
  deleteSchema,
  selectConfigsUnder,
  selectSchema,
  selectSchemas,
  upsertSchema,
} from './postgres-schema-queries.ts'

export type SchemaWork = (tx: Sql) => Promise<SchemaPutResult | number>

interface StoreAccess {
  query<T>(run: () => Promise<T>): Promise<T>
  /** Runs `work` in a write transaction (undone again when `meta.dryRun`). */
  write(meta: WriteMeta, work: SchemaWork): Promise<SchemaPutResult | number>
  /** The store's change feed (see ConfigStore.subscribe): it tells of every revision committed. */
  subscribe(
    listener: ChangeListener,
    onLost: (error: HistoryCompactedError) => void,
    onProgress: (revision: number) => void,
  ): () => void
}

export class PostgresSchemas implements SchemaStore {
  private readonly feed: SchemaFeed

  constructor(
    private readonly sql: Sql,
    private readonly access: StoreAccess,
    private readonly validators: SchemaValidators,
    private readonly entries: PostgresSchemaHistory,
  ) {
    this.feed = new SchemaFeed({
      newest: () => access.query(() => currentRevision(sql)),
      after: (after, limit) => access.query(() => entries.changesAfter(sql, after, limit)),
      start: (feed) => {
        // A revision without a config event is a schema write: a gap between two events, or
        // progress past the last one (see PostgresChangeFeed). Only then is the history read.
        let last: number | undefined
        return access.subscribe(
          (event) => {
            if (last === undefined || event.revision > last + 1) feed.wake()
            last = event.revision
          },
          (error) => feed.lost(error),
          (revision) => {
            last = revision
            feed.wake()
          },
        )
      },
    })
  }

  async get(name: string): Promise<StoredSchema | undefined> {
    const row = await this.access.query(() => selectSchema(this.sql, name))
    return row && storedSchemaOf(row)
  }

  async list(): Promise<StoredSchema[]> {
    return (await this.access.query(() => selectSchemas(this.sql))).map(storedSchemaOf)
  }

  async put(
    definition: SchemaDefinition,
    precondition: Precondition,
    meta: WriteMeta,
    options: SchemaWriteOptions,
  ): Promise<SchemaPutResult> {
    const source = JSON.stringify(definition.schema)
    // Compiled before the lock, and so refused before it when Ajv cannot compile it.
    const validate = this.validators.compile(definition.schema)
    const result = this.access.write(meta, async (tx) => {
      const { revision } = await nextRevision(tx)
      return this.store(tx, revision, definition, source, validate, precondition, meta, options)
    })
    return result as Promise<SchemaPutResult>
  }

  async rollback(
    name: string,
    revision: number,
    precondition: Precondition,
    meta: WriteMeta,
    options: SchemaWriteOptions,
  ): Promise<SchemaPutResult> {
    const restoring = { ...meta, rollbackOf: revision }
    // A past state never changes: compiled from a read before the lock, as a put's is.
    const past = await this.getAt(name, revision)
    const validate = past && this.validators.compile(past.definition.schema)
    const result = this.access.write(meta, async (tx) => {
      const slot = await nextRevision(tx)
      // The slot is the revision this write takes: the one before it is the newest committed.
      const then = await this.entries.stateAt(tx, name, revision, slot.revision - 1)
      if (!then || !validate) throw new SchemaNotFoundError(name, revision)
      const { definition } = then
      const source = JSON.stringify(definition.schema)
      return this.store(tx, slot.revision, definition, source, validate, precondition, restoring, options)
    })
    return result as Promise<SchemaPutResult>
  }

  async delete(name: string, precondition: Precondition, meta: WriteMeta): Promise<number> {
    const result = this.access.write(meta, async (tx) => {
      const { revision } = await nextRevision(tx)
      const current = await selectSchema(tx, name)
      checkSchemaPrecondition(name, current?.revision, precondition)
      if (!current) throw new SchemaNotFoundError(name)
      await deleteSchema(tx, name)
      await this.entries.append(tx, { ...current, revision, type: 'DELETED', ...meta })
      await notify(tx, revision)
      return revision
    })
    return result as Promise<number>
  }

  async history(name: string, query: HistoryQuery): Promise<SchemaHistoryPage> {
    return this.access.query(() => this.entries.page(this.sql, name, query))
  }

  async getAt(name: string, revision: number): Promise<StoredSchema | undefined> {
    return this.access.query(() => this.entries.stateAt(this.sql, name, revision))
  }

  currentRevision(): Promise<number> {
    return this.access.query(() => currentRevision(this.sql))
  }

  async changesAfter(after: number, limit: number): Promise<SchemaChangePage> {
    return this.access.query(() => this.entries.changesAfter(this.sql, after, limit))
  }

  subscribe(listener: SchemaChangeListener, onLost: SchemaFeedLost): Promise<() => void> {
    return this.feed.subscribe(listener, onLost)
  }

  /** Under the write lock (`revision` taken): checks, stores and keeps the history entry. */
  private async store(
    tx: Sql,
    revision: number,
    definition: SchemaDefinition,
    source: string,
    validate: ReturnType<SchemaValidators['compile']>,
    precondition: Precondition,
    meta: WriteMeta,
    options: SchemaWriteOptions,
  ): Promise<SchemaPutResult> {
    const [current, schemas] = await Promise.all([selectSchema(tx, definition.name), selectSchemas(tx)])
    checkSchemaPrecondition(definition.name, current?.revision, precondition)
    const holder = schemas.find((s) => s.prefix === definition.prefix && s.name !== definition.name)
    if (holder) throw new SchemaPrefixTakenError(definition.prefix, holder.name)
    const row: SchemaRow = { ...definition, source, revision }
    this.validators.remember(revision, source, validate)
    const configs = await selectConfigsUnder(tx, definition.prefix)
    const violators = collectViolators(row, withSchema(schemas, row), configs, this.validators)
    if (definition.mode === 'enforce' && !options.force && violators.total > 0) {
      throw new SchemaViolatorsError(definition.name, violators)
    }
    await upsertSchema(tx, definition, source, revision)
    const type = current === undefined ? 'ADDED' : 'MODIFIED'
    await this.entries.append(tx, { ...row, type, ...meta, force: options.force })
    await notify(tx, revision)
    return { stored: { definition, revision }, created: current === undefined, violators }
  }

  async violators(name: string): Promise<ViolatorReport> {
    return this.access.query(() =>
      // One snapshot: the schemas and the configs agree.
      this.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (transaction) => {
        const tx = transaction as unknown as Sql
        const [row, schemas] = await Promise.all([selectSchema(tx, name), selectSchemas(tx)])
        if (!row) throw new SchemaNotFoundError(name)
        return collectViolators(row, schemas, await selectConfigsUnder(tx, row.prefix), this.validators)
      }),
    )
  }
}

async function notify(tx: Sql, revision: number): Promise<void> {
  await tx`SELECT pg_notify(${CHANGES_CHANNEL}, ${String(revision)})`
}
