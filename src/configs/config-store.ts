/**
 * The storage contract. It speaks configs and revisions, never HTTP or SQL, so every
 * backend (SQLite, PostgreSQL) passes the same contract suite in test/store.
 */
import type { Config } from './model.ts'

export interface StoredConfig {
  config: Config
  /** Store-wide revision of the write that produced this state (etcd's mod_revision). */
  revision: number
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

/** The dcnames starting with a prefix are exactly those in [from, to) (to undefined: no end). */
export interface PrefixRange {
  from: string
  to?: string
}

/**
 * A prefix as a range of the byte-ordered dcname index (SQLite's BINARY collation, PostgreSQL's
 * COLLATE "C"; code point order is UTF-8 byte order): `to` is the prefix with its last code
 * point raised by one. A range needs no LIKE pattern, so no escaping of `_` and `%` (which
 * dcnames may hold) and no dependence on a collation's idea of case.
 */
export function prefixRange(prefix: string): PrefixRange {
  const points = [...prefix]
  while (points.length > 0) {
    const last = (points.pop() as string).codePointAt(0) as number
    // The highest code point cannot be raised: the range ends where the shorter prefix's does.
    if (last === 0x10ffff) continue
    const next = last === 0xd7ff ? 0xe000 : last + 1 // surrogates are no code points of their own
    return { from: prefix, to: points.join('') + String.fromCodePoint(next) }
  }
  return { from: prefix }
}

export interface ListPage {
  items: StoredConfig[]
  /** True when configs beyond `limit` remain. */
  more: boolean
  /** The store's revision at the time of reading (as a Kubernetes list's resourceVersion). */
  revision: number
}

export interface Precondition {
  /** The stored revision must equal this; '*' means "must exist". */
  ifMatch?: number | '*'
  /** Only create: fail when the config exists. */
  ifNoneMatch?: '*'
}

export interface ReplaceResult {
  stored: StoredConfig
  created: boolean
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED'

/** One committed write, as watch clients see it. For DELETED, `config` is the last state. */
export interface ChangeEvent {
  type: ChangeType
  config: Config
  revision: number
  /**
   * For MODIFIED events read from the history (eventsSince): the config as it was before this
   * write. A filtered replay needs it to tell whether the config was in the view before; live
   * events leave it out (a watcher follows the view as it goes).
   */
  previous?: Config
}

export type ChangeListener = (event: ChangeEvent) => void

export interface ConfigStore {
  readonly backend: 'sqlite' | 'postgres'
  get(dcname: string): Promise<StoredConfig | undefined>
  list(query: ListQuery): Promise<ListPage>
  count(): Promise<number>
  /** Fails with ConflictError when the dcname is taken. */
  create(config: Config): Promise<StoredConfig>
  /** Creates or replaces; fails with PreconditionFailedError when `precondition` does not hold. */
  replace(config: Config, precondition: Precondition): Promise<ReplaceResult>
  /**
   * Read-modify-write as one atomic step: `change` sees the stored config and returns the next
   * one (it may throw to refuse, and then nothing is written).
   */
  update(dcname: string, change: (current: Config) => Config, precondition: Precondition): Promise<StoredConfig>
  /** Returns the revision of the deletion. */
  delete(dcname: string, precondition: Precondition): Promise<number>
  /** Stores `configs` only in a store that was never seeded; true when it did. */
  seed(configs: Config[]): Promise<boolean>
  /**
   * Kept history after `since`, in revision order, MODIFIED events with their `previous` state
   * (absent on events kept by a build of the service that did not store it). Fails with
   * HistoryCompactedError when events after `since` were already dropped from the bounded history.
   */
  eventsSince(since: number): Promise<ChangeEvent[]>
  /**
   * Calls `listener` with every committed change, in revision order, from the moment of the
   * call (on PostgreSQL, changes made through any replica). Returns the unsubscribe function.
   * On PostgreSQL the first events may also include a few that committed on another replica
   * just before the call (de-duplicate by revision when joining with `eventsSince`).
   * `onLost` ends the subscription when the store can no longer deliver without a gap: a
   * PostgreSQL replica cut off from its database for longer than the kept history. The
   * subscriber is then dropped; its client must list again. (SQLite never calls it.)
   */
  subscribe(listener: ChangeListener, onLost?: (error: HistoryCompactedError) => void): () => void
  /** A cheap round trip that fails when the store cannot serve. */
  ping(): Promise<void>
  close(): Promise<void>
}

export class NotFoundError extends Error {
  constructor(readonly dcname: string) {
    super(`config ${JSON.stringify(dcname)} does not exist`)
    this.name = 'NotFoundError'
  }
}

export class ConflictError extends Error {
  constructor(readonly dcname: string) {
    super(`config ${JSON.stringify(dcname)} already exists`)
    this.name = 'ConflictError'
  }
}

export class PreconditionFailedError extends Error {
  constructor(
    readonly dcname: string,
    readonly currentRevision: number | undefined,
  ) {
    super(
      currentRevision === undefined
        ? `config ${JSON.stringify(dcname)} does not exist`
        : `config ${JSON.stringify(dcname)} is at revision ${currentRevision}`,
    )
    this.name = 'PreconditionFailedError'
  }
}

/** `since` is older than the kept history: the client must list again (410 Gone). */
export class HistoryCompactedError extends Error {
  constructor(
    readonly since: number,
    readonly oldestAvailable: number,
  ) {
    super(`revision ${since} is older than the kept history (replay is possible from revision ${oldestAvailable})`)
    this.name = 'HistoryCompactedError'
  }
}

/** The store cannot be reached (database down, connection lost): a 503, not a 500. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the config store is unavailable', { cause })
    this.name = 'StoreUnavailableError'
  }
}

/** Shared by every backend so they agree on what a precondition means. */
export function checkPrecondition(dcname: string, current: number | undefined, precondition: Precondition): void {
  const { ifMatch, ifNoneMatch } = precondition
  if (ifNoneMatch === '*' && current !== undefined) throw new PreconditionFailedError(dcname, current)
  if (ifMatch === undefined) return
  if (current === undefined || (ifMatch !== '*' && ifMatch !== current)) {
    throw new PreconditionFailedError(dcname, current)
  }
}
