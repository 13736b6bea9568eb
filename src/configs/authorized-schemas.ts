/**
 * Config schemas as one caller may see and change them, as AuthorizedConfigs is for configs:
 * anyone who may read may read schemas; writing one asks `write-schema` at its prefix (an admin,
 * or a writer whose prefixes cover it), and at the stored schema's prefix when it replaces or
 * deletes one, so a writer cannot take over a schema that governs more than it may write.
 */
import { actorOf, authorize, covers } from './access.ts'
import type { Caller } from './authorized-configs.ts'
import type { HistoryQuery, Precondition, WriteMeta } from './config-store.ts'
import type { SchemaChangeListener, SchemaChangePage, SchemaFeedLost, SchemaHistoryPage } from './schema-history.ts'
import {
  type SchemaDefinition,
  SchemaNotFoundError,
  type SchemaPutResult,
  type SchemaWriteOptions,
  type StoredSchema,
  type ViolatorReport,
} from './schema-model.ts'
import type { SchemaStore } from './schema-store.ts'

export class AuthorizedSchemas {
  constructor(private readonly schemas: SchemaStore) {}

  /** Every schema, and a revision at or before the list's: a watch from it misses no change since. */
  async list(caller: Caller): Promise<{ schemas: StoredSchema[]; revision: number }> {
    authorize(caller.principal, 'read-schemas')
    const revision = await this.schemas.currentRevision()
    return { schemas: await this.schemas.list(), revision }
  }

  get(caller: Caller, name: string): Promise<StoredSchema | undefined> {
    authorize(caller.principal, 'read-schemas')
    return this.schemas.get(name)
  }

  /** Only the violators the caller may read: the others are neither named nor counted. */
  async violators(caller: Caller, name: string): Promise<ViolatorReport> {
    authorize(caller.principal, 'read-schemas')
    const report = await this.schemas.violators(name)
    const principal = caller.principal
    if (principal?.prefixes === undefined) return report
    const items = report.items.filter((v) => covers(principal, v.dcname))
    return { items, total: items.length }
  }

  async put(
    caller: Caller,
    definition: SchemaDefinition,
    precondition: Precondition,
    options: SchemaWriteOptions,
  ): Promise<SchemaPutResult> {
    authorize(caller.principal, 'write-schema', definition.prefix)
    await this.authorizeStored(caller, definition.name)
    return this.schemas.put(definition, precondition, this.writeMeta(caller), options)
  }

  history(caller: Caller, name: string, query: HistoryQuery): Promise<SchemaHistoryPage> {
    authorize(caller.principal, 'read-schemas')
    return this.schemas.history(name, query)
  }

  getAt(caller: Caller, name: string, revision: number): Promise<StoredSchema | undefined> {
    authorize(caller.principal, 'read-schemas')
    return this.schemas.getAt(name, revision)
  }

  /**
   * As a put of the state at `revision`: the caller must cover that state's prefix and the
   * stored schema's. A past state never changes, so reading it first decides the same as the
   * store's own read under its lock.
   */
  async rollback(
    caller: Caller,
    name: string,
    revision: number,
    precondition: Precondition,
    options: SchemaWriteOptions,
  ): Promise<SchemaPutResult> {
    authorize(caller.principal, 'write-schema')
    const then = await this.schemas.getAt(name, revision)
    if (!then) throw new SchemaNotFoundError(name, revision)
    authorize(caller.principal, 'write-schema', then.definition.prefix)
    await this.authorizeStored(caller, name)
    return this.schemas.rollback(name, revision, precondition, this.writeMeta(caller), options)
  }

  /** The schema feed, for watches: schemas are read by anyone who may read them. */
  watch(caller: Caller): SchemaFeedAccess {
    authorize(caller.principal, 'read-schemas')
    return {
      changesAfter: (after, limit) => this.schemas.changesAfter(after, limit),
      subscribe: (listener, onLost) => this.schemas.subscribe(listener, onLost),
      currentRevision: () => this.schemas.currentRevision(),
    }
  }

  async delete(caller: Caller, name: string, precondition: Precondition): Promise<number> {
    await this.authorizeStored(caller, name)
    return this.schemas.delete(name, precondition, this.writeMeta(caller))
  }

  private async authorizeStored(caller: Caller, name: string): Promise<void> {
    authorize(caller.principal, 'write-schema')
    const current = await this.schemas.get(name)
    if (current) authorize(caller.principal, 'write-schema', current.definition.prefix)
  }

  private writeMeta(caller: Caller): WriteMeta {
    return { actor: actorOf(caller.principal), requestId: caller.requestId, dryRun: caller.dryRun }
  }
}

/** What a schema watch reads: the kept schema writes after a revision, then the live ones. */
export interface SchemaFeedAccess {
  currentRevision(): Promise<number>
  changesAfter(after: number, limit: number): Promise<SchemaChangePage>
  subscribe(listener: SchemaChangeListener, onLost: SchemaFeedLost): Promise<() => void>
}
