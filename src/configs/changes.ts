/**
 * The change feed of the store, as the ConfigStore port speaks it: each committed write as an
 * event, live (subscribe) or read back from the kept history a page at a time (changesAfter).
 */
import type { Config } from './model.ts'

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED'

/** One committed write, as watch clients see it. For DELETED, `config` is the last state. */
export interface ChangeEvent {
  type: ChangeType
  config: Config
  revision: number
  /**
   * For MODIFIED events read from the history (changesAfter): the config as it was before this
   * write. A filtered replay needs it to tell whether the config was in the view before; live
   * events leave it out (a watcher follows the view as it goes).
   */
  previous?: Config
  /**
   * `JSON.stringify(config)`, when the store has it at hand (live events of both stores, and
   * the history's): the read model and the watch frames take it instead of serialising the
   * config again.
   */
  json?: string
  /** For a rollback's write: the store revision whose state it restored. */
  rollbackOf?: number
  /** For a rollout's write: the rollout's id. */
  rollout?: string
}

export type ChangeListener = (event: ChangeEvent) => void

/** One page of the kept history, for a watch replay: bounded in events and in bytes. */
export interface ChangePageQuery {
  /** Events after this revision. */
  after: number
  /** At most this many events. */
  limit: number
  /**
   * At most this many bytes of stored JSON (each event's config and previous state, UTF-8), except
   * that a page holds at least one event when any is left: a config larger than this still comes.
   */
  bytes: number
}

export interface ChangePage {
  /** In revision order. */
  events: ChangeEvent[]
  /** True when events after the last one remained when the page was read: ask again after it. */
  more: boolean
}
