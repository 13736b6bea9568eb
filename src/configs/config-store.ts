/**
 * The storage contract. It speaks configs and revisions, never HTTP or SQL, so every
 * backend (SQLite, PostgreSQL) passes the same contract suite in test/store.
 */
import type { ChangeListener, ChangePage, ChangePageQuery, ChangeType } from './changes.ts'
import type { Config } from './model.ts'
import type { SchemaWarning } from './schema-model.ts'
import type { SchemaStore } from './schema-store.ts'
import { type HistoryCompactedError, PreconditionFailedError } from './store-errors.ts'
import { type HistoryQuery, type Precondition, preconditionHolds, type WriteMeta } from './write-terms.ts'

export type { ChangeEvent, ChangeListener, ChangePage, ChangePageQuery, ChangeType } from './changes.ts'

export interface StoredConfig {
  config: Config
  /** Store-wide revision of the write that produced this state (etcd's mod_revision). */
  revision: number
  /**
   * `JSON.stringify(config)`, when the store holds it ready (the read model does): a read can
   * answer with these bytes instead of serialising the config again.
   */
  readonly json?: string
  /** Set by a write in `warn` mode that broke its governing schema (the write was made). */
  readonly warning?: SchemaWarning
}

/** One `metadata.a.b=value` (or `dcname=value`) condition; all of a query must match. */
export interface Filter {
  /** Path below the config root, e.g. ['metadata', 'monitoring', 'enabled']. */
  path: string[]
  value: string
}

export interface ListQuery {
  filters: Filter[]
  limit: number
  /** Return only configs whose dcname sorts after this one (the paging cursor). */
  after?: string
  /**
   * Return only configs whose dcname starts with one of these (a caller's access scope);
   * undefined: every config; empty: none. Applied in the query, so pages stay full and cursors
   * stay valid. See prefixRange for how a backend turns one into an index range.
   */
  prefixes?: readonly string[]
}

export { type PrefixRange, prefixRange } from './prefix-range.ts'

export interface ListPage {
  items: StoredConfig[]
  /** True when configs beyond `limit` remain. */
  more: boolean
  /** The store's revision at the time of reading (as a Kubernetes list's resourceVersion). */
  revision: number
  /**
   * The items as a JSON array, UTF-8 encoded, when the store holds it ready (the read model
   * keeps recently listed pages): a read can answer with these bytes as they are.
   */
  readonly body?: Uint8Array<ArrayBuffer>
}

export type { HistoryQuery, Precondition, WriteMeta } from './write-terms.ts'

export interface ReplaceResult {
  stored: StoredConfig
  created: boolean
}

/** One write as history keeps it. For DELETED, `config` is the last state. */
export interface HistoryEntry {
  revision: number
  type: ChangeType
  /** When the write was made, RFC 3339 (UTC). */
  time: string
  actor: string
  /** The X-Request-Id of the write; absent for writes no request made (the seed, entries from before history). */
  requestId?: string
  /** Present when the write was a rollback: the store revision whose state it restored. */
  rollbackOf?: number
  /** Present when a rollout made the write: its id. */
  rollout?: string
  config: Config
}

export interface HistoryPage {
  /** Newest first. */
  entries: HistoryEntry[]
  /** True when older entries beyond `limit` remain. */
  more: boolean
}

/**
 * How long history is kept. The newest `keep` entries of each config always are; older ones
 * go once they are older than `days` (0: at once). The newest WATCH_HISTORY_SIZE writes of the
 * store stay too, as watch replay needs them.
 */
export interface RetentionPolicy {
  keep: number
  days: number
}

/**
 * The store is five small ports, so that a decorator wraps the one it changes and passes the
 * others on (see pass-on.ts), and a caller can ask for only what it uses.
 */

/** Reads of the present. */
export interface ConfigReader {
  get(dcname: string): Promise<StoredConfig | undefined>
  list(query: ListQuery): Promise<ListPage>
  count(): Promise<number>
}

/** Writes of configs: each decided by decideWrite (write-rules.ts) under the store's write lock. */
export interface ConfigWriter {
  /**
   * Every write below stores its history entry (with `meta`) in the same transaction as the
   * write itself: an acknowledged write has its entry, a failed one has none.
   * Fails with ConflictError when the dcname is taken.
   */
  create(config: Config, meta: WriteMeta): Promise<StoredConfig>
  /** Creates or replaces; fails with PreconditionFailedError when `precondition` does not hold. */
  replace(config: Config, precondition: Precondition, meta: WriteMeta): Promise<ReplaceResult>
  /**
   * Read-modify-write as one atomic step: `change` sees the stored config and returns the next
   * one (it may throw to refuse, and then nothing is written).
   */
  update(
    dcname: string,
    change: (current: Config) => Config,
    precondition: Precondition,
    meta: WriteMeta,
  ): Promise<StoredConfig>
  /** Returns the revision of the deletion. */
  delete(dcname: string, precondition: Precondition, meta: WriteMeta): Promise<number>
  /**
   * Writes the config's state at store revision `revision` again, as a new revision; `created`
   * when that re-creates a deleted config. NotFoundError when it did not exist at `revision`,
   * RevisionCompactedError when that part of its history was dropped, and PreconditionFailedError
   * as for the other writes (checked against the config as it is now).
   */
  rollback(dcname: string, revision: number, precondition: Precondition, meta: WriteMeta): Promise<ReplaceResult>
  /** Stores `configs` only in a store that was never seeded; true when it did. */
  seed(configs: Config[], meta: WriteMeta): Promise<boolean>
}

/** Reads of the past: history entries and past states. */
export interface ConfigHistory {
  /** The kept history of one name, newest first; NotFoundError when the name never had any. */
  history(dcname: string, query: HistoryQuery): Promise<HistoryPage>
  /**
   * The config as it stood at store revision `revision`, with the revision of the write that
   * made that state; undefined when it did not exist then (not yet created, or deleted).
   * RevisionCompactedError when the entries that would tell were dropped by retention.
   */
  getAt(dcname: string, revision: number): Promise<StoredConfig | undefined>
  /** History entries stored now, every config together. */
  countHistory(): Promise<number>
  /** History entries this handle dropped by retention since it was opened. */
  droppedHistory(): number
}

/** The committed changes, in revision order: what watches and the read model follow. */
export interface ChangeFeed {
  /**
   * One page of the kept history after `query.after`, in revision order, MODIFIED events with
   * their `previous` state (absent on events kept by a build of the service that did not store
   * it). Fails with HistoryCompactedError when events after `query.after` were already dropped
   * from the bounded history. A replay reads page after page, so its memory is one page.
   */
  changesAfter(query: ChangePageQuery): Promise<ChangePage>
  /**
   * Calls `listener` with every committed change, in revision order, from the moment of the
   * call (on PostgreSQL, changes made through any replica). Returns the unsubscribe function.
   * On PostgreSQL the first events may also include a few that committed on another replica
   * just before the call (de-duplicate by revision when joining with `changesAfter`).
   * `onLost` ends the subscription when the store can no longer deliver without a gap: a
   * PostgreSQL replica cut off from its database for longer than the kept history. The
   * subscriber is then dropped; its client must list again. (SQLite never calls it.)
   * `onProgress(revision)`: every change up to `revision` was delivered, though the last ones
   * had no event (schema writes take revisions too). PostgreSQL calls it; SQLite, whose
   * subscribers hear of writes in their commit, needs not.
   */
  subscribe(
    listener: ChangeListener,
    onLost?: (error: HistoryCompactedError) => void,
    onProgress?: (revision: number) => void,
  ): () => void
  /** The revision of the newest committed write (0 for a store never written). One cheap query. */
  currentRevision(): Promise<number>
}

export interface StoreLifecycle {
  /** A cheap round trip that fails when the store cannot serve. */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface ConfigStore extends ConfigReader, ConfigWriter, ConfigHistory, ChangeFeed, StoreLifecycle {
  readonly backend: 'sqlite' | 'postgres'
  /**
   * The schemas of this store. Every config write below is checked, under the store's write
   * lock, against the schema that governs its dcname at that revision (SchemaViolationError).
   */
  readonly schemas: SchemaStore
}

export {
  ConflictError,
  HistoryCompactedError,
  NotFoundError,
  PreconditionFailedError,
  RevisionCompactedError,
  StoreUnavailableError,
} from './store-errors.ts'

/** Shared by every backend so they agree on what a precondition means. */
export function checkPrecondition(dcname: string, current: number | undefined, precondition: Precondition): void {
  if (!preconditionHolds(current, precondition)) throw new PreconditionFailedError(dcname, current)
}
