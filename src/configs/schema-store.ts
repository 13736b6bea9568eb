/**
 * The port of schema storage: what a store does with schemas and their history. Apart from the
 * model (schema-model.ts) and the history's shapes (schema-history.ts), which both stand below it.
 */
import type { SchemaChangeListener, SchemaChangePage, SchemaFeedLost, SchemaHistoryPage } from './schema-history.ts'
import type {
  SchemaDefinition,
  SchemaPutResult,
  SchemaWriteOptions,
  StoredSchema,
  ViolatorReport,
} from './schema-model.ts'
import type { HistoryQuery, Precondition, WriteMeta } from './write-terms.ts'

/** Schemas as a store keeps them; every write shares the config writes' revision counter. */
export interface SchemaStore {
  get(name: string): Promise<StoredSchema | undefined>
  /** Every schema, by name. */
  list(): Promise<StoredSchema[]>
  /**
   * Creates or replaces, checking under the store's write lock: the precondition, that no other
   * schema claims the prefix (SchemaPrefixTakenError), and, for `enforce` without `force`, that
   * no config it would govern breaks it (SchemaViolatorsError). `meta.dryRun`: nothing is stored.
   */
  put(
    definition: SchemaDefinition,
    precondition: Precondition,
    meta: WriteMeta,
    options: SchemaWriteOptions,
  ): Promise<SchemaPutResult>
  /** Returns the revision of the deletion; SchemaNotFoundError when there is none. */
  delete(name: string, precondition: Precondition, meta: WriteMeta): Promise<number>
  /** The configs the schema governs that break it now. */
  violators(name: string): Promise<ViolatorReport>
  /** The kept history of one name, newest first; SchemaNotFoundError when it never had any. */
  history(name: string, query: HistoryQuery): Promise<SchemaHistoryPage>
  /**
   * The schema as it stood at store revision `revision`; undefined when it did not exist then.
   * RevisionNotReachedError past the store's revision, SchemaRevisionCompactedError when dropped.
   */
  getAt(name: string, revision: number): Promise<StoredSchema | undefined>
  /**
   * Writes the schema's state at `revision` again, as a new revision: a schema write like `put`
   * (precondition against the schema as it is now, prefix, violators unless `force`), whose
   * history entry names `rollbackOf`. SchemaNotFoundError (with the revision) when it did not
   * exist then.
   */
  rollback(
    name: string,
    revision: number,
    precondition: Precondition,
    meta: WriteMeta,
    options: SchemaWriteOptions,
  ): Promise<SchemaPutResult>
  /** The store's newest committed revision (schema and config writes share the counter). */
  currentRevision(): Promise<number>
  /** Kept schema writes after `after`, in revision order; HistoryCompactedError when some were dropped. */
  changesAfter(after: number, limit: number): Promise<SchemaChangePage>
  /**
   * Every schema write committed from now on (any replica's, on PostgreSQL), in revision order.
   * Resolves once established: a write committed later is delivered. `onLost`: the feed can no
   * longer deliver without a gap; the subscription is then gone.
   */
  subscribe(listener: SchemaChangeListener, onLost: SchemaFeedLost): Promise<() => void>
}
