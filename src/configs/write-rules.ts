/**
 * What a config write does, decided once for every backend. A backend takes its write lock and
 * reads the config as it stands (`CurrentConfig`), hands both to decideWrite, and stores what it
 * answers (`PlannedWrite`), checking it against the governing schema as it stores it. So the
 * preconditions, not-found, the conflict of a create and ADDED versus MODIFIED cannot differ
 * between SQLite and PostgreSQL, and a backend holds only "lock and read" and "put".
 */
import {
  ConflictError,
  checkPrecondition,
  NotFoundError,
  type Precondition,
  type StoredConfig,
} from './config-store.ts'
import type { Config } from './model.ts'

/** The config as a write found it under the store's write lock. */
export interface CurrentConfig {
  readonly revision: number
  /** The stored JSON text: parsed only by the writes that need the config itself (update). */
  readonly body: string
}

export interface DeleteCommand {
  readonly kind: 'delete'
  readonly dcname: string
  readonly precondition: Precondition
}

/** Every write but a delete: each stores a config. */
export type StoreCommand =
  | { readonly kind: 'create'; readonly config: Config }
  | { readonly kind: 'replace'; readonly config: Config; readonly precondition: Precondition }
  | {
      readonly kind: 'update'
      readonly dcname: string
      /** Sees the stored config and answers the next one; it may throw to refuse the write. */
      readonly change: (current: Config) => Config
      readonly precondition: Precondition
    }
  /**
   * `past`: the config's state at `revision` (as ConfigStore.getAt reads it), read once
   * checkRollback has passed, so a refused rollback reads no history.
   */
  | {
      readonly kind: 'rollback'
      readonly dcname: string
      readonly revision: number
      readonly past: StoredConfig | undefined
    }

export type WriteCommand = StoreCommand | DeleteCommand

/** Store `config`; `created` when no config had its dcname (a replace or a rollback may create). */
export interface StoreWrite {
  readonly type: 'ADDED' | 'MODIFIED'
  readonly config: Config
  readonly created: boolean
}

/** Delete the config; `last` is the state its DELETED event keeps. */
export interface DeleteWrite {
  readonly type: 'DELETED'
  readonly dcname: string
  readonly last: CurrentConfig
}

/** Throws the write's refusal (ConflictError, NotFoundError, PreconditionFailedError, or `change`'s own). */
export function decideWrite(command: StoreCommand, current: CurrentConfig | undefined): StoreWrite
export function decideWrite(command: DeleteCommand, current: CurrentConfig | undefined): DeleteWrite
export function decideWrite(command: WriteCommand, current: CurrentConfig | undefined): StoreWrite | DeleteWrite {
  switch (command.kind) {
    case 'create':
      if (current) throw new ConflictError(command.config.dcname)
      return added(command.config)
    case 'replace':
      checkPrecondition(command.config.dcname, current?.revision, command.precondition)
      return current ? modified(command.config) : added(command.config)
    case 'update': {
      const found = existing(command.dcname, current, command.precondition)
      return modified(command.change(JSON.parse(found.body) as Config))
    }
    case 'delete':
      return { type: 'DELETED', dcname: command.dcname, last: existing(command.dcname, current, command.precondition) }
    case 'rollback':
      if (!command.past) throw new NotFoundError(command.dcname, command.revision)
      return current ? modified(command.past.config) : added(command.past.config)
  }
}

/** The precondition first: `If-Match` on a missing config is a 412, not a 404. */
function existing(dcname: string, current: CurrentConfig | undefined, precondition: Precondition): CurrentConfig {
  checkPrecondition(dcname, current?.revision, precondition)
  if (!current) throw new NotFoundError(dcname)
  return current
}

function added(config: Config): StoreWrite {
  return { type: 'ADDED', config, created: true }
}

function modified(config: Config): StoreWrite {
  return { type: 'MODIFIED', config, created: false }
}
