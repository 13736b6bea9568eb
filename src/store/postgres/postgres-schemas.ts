/**
 * Config schemas in the PostgreSQL store: one row each in `schemas`. A schema write takes the
 * store's write lock and next revision (store_state) as a config write does, adds no event
 * (schemas are no configs: watchers and config history never see them), and notifies with its
 * revision, so every replica's feed learns the store moved on (see PostgresChangeFeed.progress).
 */
import type { Sql } from 'postgres'
import type { Precondition, WriteMeta } from '../../configs/config-store.ts'
import {
  checkSchemaPrecondition,
  type SchemaDefinition,
  SchemaNotFoundError,
  SchemaPrefixTakenError,
  type SchemaPutResult,
  type SchemaRow,
  type SchemaStore,
  SchemaViolatorsError,
  type SchemaWriteOptions,
  type StoredSchema,
  storedSchemaOf,
  type ViolatorReport,
} from '../../configs/schema-model.ts'
import type { SchemaValidators } from '../../configs/schema-validator.ts'
import { collectViolators, withSchema } from '../../configs/schema-violators.ts'
import { CHANGES_CHANNEL } from './postgres-changes.ts'
import { nextRevision } from './postgres-queries.ts'
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
}

export class PostgresSchemas implements SchemaStore {
  constructor(
    private readonly sql: Sql,
    private readonly access: StoreAccess,
    private readonly validators: SchemaValidators,
  ) {}

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
      await notify(tx, revision)
      return { stored: { definition, revision }, created: current === undefined, violators }
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
      await notify(tx, revision)
      return revision
    })
    return result as Promise<number>
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
