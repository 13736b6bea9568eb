/**
 * What lets a store decorator write out only the calls it changes: it passes the rest of the
 * store's ports on by name, and the compiler checks each port's list of names is complete.
 */
import type {
  ChangeFeed,
  ConfigHistory,
  ConfigReader,
  ConfigStore,
  ConfigWriter,
  StoreLifecycle,
} from './config-store.ts'

/** The names of each port's members, checked complete by the compiler: what passOn passes on. */
export const PORT_MEMBERS = {
  reader: members<ConfigReader>({ get: true, list: true, count: true }),
  writer: members<ConfigWriter>({
    create: true,
    replace: true,
    update: true,
    delete: true,
    rollback: true,
    seed: true,
  }),
  history: members<ConfigHistory>({ history: true, getAt: true, countHistory: true, droppedHistory: true }),
  feed: members<ChangeFeed>({ changesAfter: true, subscribe: true, currentRevision: true }),
  lifecycle: members<StoreLifecycle>({ ping: true, close: true }),
}

function members<T>(names: Record<keyof T, true>): (keyof T)[] {
  return Object.keys(names) as (keyof T)[]
}

/**
 * `store`'s members named by `names`, bound to it: what a decorator passes on unchanged, so that
 * it writes out only the calls it changes.
 */
export function passOn<T extends object, K extends keyof T>(store: T, names: readonly K[]): Pick<T, K> {
  const passed = {} as Pick<T, K>
  for (const name of names) {
    const member = store[name]
    passed[name] = (typeof member === 'function' ? member.bind(store) : member) as T[K]
  }
  return passed
}

/**
 * A base class for a decorator that is itself a ConfigStore: its instances pass the members
 * `names` on to the store given to the constructor, and the decorator writes out the rest.
 */
export function passingOn<K extends keyof ConfigStore>(names: readonly K[]) {
  return class {
    constructor(store: ConfigStore) {
      Object.assign(this, passOn(store, names))
    }
  } as new (
    store: ConfigStore,
  ) => Pick<ConfigStore, K>
}
