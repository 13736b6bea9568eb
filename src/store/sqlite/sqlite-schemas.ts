/**
 * Config schemas in the SQLite store: one row each in `schemas`, written in the store's write
 * transactions. A schema write takes the next store revision from the events table's sequence
 * without adding an event (schemas are no configs: config watchers and history never see them),
 * so config and schema writes share one order; its history entry goes to `schema_history`
 * (sqlite-schema-history.ts), and once committed the schema feed hears of it.
 */
import type { HistoryQuery, Precondition, RetentionPolicy, WriteMeta } from '../../configs/config-store.ts'
import { prefixRange } from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'
import { checkRevisionReached } from '../../configs/revision-rules.ts'
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
  type SchemaWarning,
  type SchemaWriteOptions,
  type StoredSchema,
  storedSchemaOf,
  type ViolatorReport,
} from '../../configs/schema-model.ts'
import type { SchemaStore } from '../../configs/schema-store.ts'
import { SchemaValidators } from '../../configs/schema-validator.ts'
import { collectViolators, withSchema } from '../../configs/schema-violators.ts'
import { SchemaFeed } from '../schema-feed.ts'
import type { SqliteDatabase } from './sqlite-driver.ts'
import { SqliteSchemaHistory } from './sqlite-schema-history.ts'

interface StoreAccess {
  read<T>(work: () => T): T
  /** Runs `work` in the next write transaction (undone again when `meta.dryRun`). */
  write<T>(meta: WriteMeta, work: () => T): Promise<T>
  /** The store's newest committed revision (in a read or a write). */
  revision(): number
}

interface HistoryOptions {
  /** As the configs' (default: 20 per schema, 30 days), applied at each write of a schema. */
  retention: RetentionPolicy | undefined
  now: () => number
}

export class SqliteSchemas implements SchemaStore {
  private readonly statements

  /** Compiled schemas of this handle, by revision. */
  private readonly validators = new SchemaValidators()

  private readonly entries: SqliteSchemaHistory
  private readonly feed: SchemaFeed

  constructor(
    db: SqliteDatabase,
    private readonly access: StoreAccess,
    history: HistoryOptions,
  ) {
    this.entries = new SqliteSchemaHistory(db, history.retention ?? { keep: 20, days: 30 }, history.now)
    this.feed = new SchemaFeed({
      newest: async () => access.read(() => access.revision()),
      after: async (after, limit) => access.read(() => this.entries.changesAfter(after, limit)),
    })
    this.statements = {
      get: db.prepare('SELECT name, prefix, mode, source, revision FROM schemas WHERE name = ?'),
      all: db.prepare('SELECT name, prefix, mode, source, revision FROM schemas ORDER BY name'),
      // Few schemas, so a scan; the longest prefix wins.
      governing: db.prepare(
        `SELECT name, prefix, mode, source, revision FROM schemas
         WHERE substr(?1, 1, length(prefix)) = prefix ORDER BY length(prefix) DESC LIMIT 1`,
      ),
      upsert: db.prepare(
        `INSERT INTO schemas (name, prefix, mode, source, revision) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET prefix = excluded.prefix, mode = excluded.mode,
           source = excluded.source, revision = excluded.revision`,
      ),
      remove: db.prepare('DELETE FROM schemas WHERE name = ?'),
      configsFrom: db.prepare('SELECT body FROM configs WHERE dcname >= ? ORDER BY dcname'),
      configsBetween: db.prepare('SELECT body FROM configs WHERE dcname >= ? AND dcname < ? ORDER BY dcname'),
      ensureSequence: db.prepare(
        `INSERT INTO sqlite_sequence (name, seq) SELECT 'events', 0
         WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events')`,
      ),
      nextRevision: db.prepare("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'events' RETURNING seq"),
    }
  }

  /**
   * Checks a config write against the schema governing its dcname, read in the write's
   * transaction: the one the store holds at the write's revision (SchemaViolationError).
   */
  check(config: Config): SchemaWarning | undefined {
    return this.validators.check(config, rowOf(this.statements.governing.get(config.dcname)))
  }

  async get(name: string): Promise<StoredSchema | undefined> {
    const row = this.access.read(() => rowOf(this.statements.get.get(name)))
    return row && storedSchemaOf(row)
  }

  async list(): Promise<StoredSchema[]> {
    return this.access.read(() => this.all()).map(storedSchemaOf)
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
    return this.written(
      meta,
      this.access.write(meta, () => this.store(definition, source, validate, precondition, meta, options)),
    )
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
    const work = () => {
      checkRevisionReached(revision, this.access.revision())
      const then = this.entries.stateAt(name, revision)
      if (!then || !validate) throw new SchemaNotFoundError(name, revision)
      const { definition } = then
      return this.store(definition, JSON.stringify(definition.schema), validate, precondition, restoring, options)
    }
    return this.written(meta, this.access.write(meta, work))
  }

  async delete(name: string, precondition: Precondition, meta: WriteMeta): Promise<number> {
    const work = () => {
      const current = rowOf(this.statements.get.get(name))
      checkSchemaPrecondition(name, current?.revision, precondition)
      if (!current) throw new SchemaNotFoundError(name)
      const revision = this.nextRevision()
      this.statements.remove.run(name)
      this.entries.append({ ...current, revision, type: 'DELETED', ...meta })
      return revision
    }
    return this.written(meta, this.access.write(meta, work))
  }

  async history(name: string, query: HistoryQuery): Promise<SchemaHistoryPage> {
    return this.access.read(() => this.entries.page(name, query))
  }

  async getAt(name: string, revision: number): Promise<StoredSchema | undefined> {
    return this.access.read(() => {
      checkRevisionReached(revision, this.access.revision())
      return this.entries.stateAt(name, revision)
    })
  }

  async currentRevision(): Promise<number> {
    return this.access.read(() => this.access.revision())
  }

  async changesAfter(after: number, limit: number): Promise<SchemaChangePage> {
    return this.access.read(() => this.entries.changesAfter(after, limit))
  }

  subscribe(listener: SchemaChangeListener, onLost: SchemaFeedLost): Promise<() => void> {
    return this.feed.subscribe(listener, onLost)
  }

  /** In the write transaction: checks, stores and keeps the history entry of one schema state. */
  private store(
    definition: SchemaDefinition,
    source: string,
    validate: ReturnType<SchemaValidators['compile']>,
    precondition: Precondition,
    meta: WriteMeta,
    options: SchemaWriteOptions,
  ): SchemaPutResult {
    const current = rowOf(this.statements.get.get(definition.name))
    checkSchemaPrecondition(definition.name, current?.revision, precondition)
    const schemas = this.all()
    const holder = schemas.find((s) => s.prefix === definition.prefix && s.name !== definition.name)
    if (holder) throw new SchemaPrefixTakenError(definition.prefix, holder.name)
    const revision = this.nextRevision()
    const row: SchemaRow = { ...definition, source, revision }
    this.validators.remember(revision, source, validate)
    const violators = this.violatorsOf(row, withSchema(schemas, row))
    if (definition.mode === 'enforce' && !options.force && violators.total > 0) {
      throw new SchemaViolatorsError(definition.name, violators)
    }
    this.statements.upsert.run(definition.name, definition.prefix, definition.mode, source, revision)
    const type = current === undefined ? 'ADDED' : 'MODIFIED'
    this.entries.append({ ...row, type, ...meta, force: options.force })
    return { stored: { definition, revision }, created: current === undefined, violators }
  }

  /** Once committed (not for a dry run), the schema feed reads what the write kept. */
  private async written<T>(meta: WriteMeta, write: Promise<T>): Promise<T> {
    const result = await write
    if (!meta.dryRun) this.feed.wake()
    return result
  }

  private nextRevision(): number {
    this.statements.ensureSequence.run()
    return Number((this.statements.nextRevision.get() as { seq: number }).seq)
  }

  async violators(name: string): Promise<ViolatorReport> {
    return this.access.read(() => {
      const row = rowOf(this.statements.get.get(name))
      if (!row) throw new SchemaNotFoundError(name)
      return this.violatorsOf(row, this.all())
    })
  }

  private all(): SchemaRow[] {
    return this.statements.all.all().map((row) => rowOf(row) as SchemaRow)
  }

  private violatorsOf(row: SchemaRow, schemas: SchemaRow[]): ViolatorReport {
    const range = prefixRange(row.prefix)
    const rows =
      range.to === undefined
        ? this.statements.configsFrom.all(range.from)
        : this.statements.configsBetween.all(range.from, range.to)
    const configs = rows.map((r) => JSON.parse(r.body as string) as Config)
    return collectViolators(row, schemas, configs, this.validators)
  }
}

function rowOf(row: Record<string, unknown> | undefined | null): SchemaRow | undefined {
  if (!row) return undefined
  return {
    name: row.name as string,
    prefix: row.prefix as string,
    mode: row.mode as SchemaRow['mode'],
    source: row.source as string,
    revision: Number(row.revision),
  }
}
