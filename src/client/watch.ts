/**
 * The watch as an async iterator: `for await (const item of client.watch({ since }))`.
 *
 * - It yields each ADDED, MODIFIED and DELETED event once, in revision order, for as long as
 *   the caller reads: a dropped connection, a server restart or an `ERROR` event (the watcher
 *   fell behind) is followed by a reconnect with `since=<the last revision yielded>`, so nothing
 *   is lost or repeated. Without `since` it starts from the store's revision now (read with a
 *   one-item list), so even a reconnect before the first event misses nothing.
 * - When the service no longer keeps the history to resume from (410 Gone), it lists again and
 *   yields one `RELIST` item with every matching config and the revision of that list, then goes
 *   on from there: a mirror of the configs replaces its contents with `configs` and applies the
 *   events after it.
 * - It ends when the caller stops reading (`break`, `return()`) or `signal` aborts. Errors that
 *   a retry cannot cure (400, 401, 403) are thrown as ProblemError.
 */
import type { ChangeType } from '../configs/config-store.ts'
import type { Config } from '../configs/model.ts'
import type { ConfigClientCore, Filters } from './requests.ts'
import { type ResumeOptions, resumingWatch } from './resuming-watch.ts'

export interface WatchOptions extends ResumeOptions {
  /** `metadata.a.b=value` and `dcname=value` conditions, as for a list. */
  filters?: Filters
  /** Only configs whose dcname starts with this (`prefix=`). */
  prefix?: string
}

/** A change, exactly the `data` of its server-sent event. */
export interface WatchEvent {
  type: ChangeType
  revision: number
  /** A rollback's event: the revision whose state it restored. */
  rollbackOf?: number
  config: Config
}

/** After a 410: every config that matches now, and the store revision they were read at. */
export interface WatchRelist {
  type: 'RELIST'
  revision: number
  configs: Config[]
}

export type WatchItem = WatchEvent | WatchRelist

const CHANGE_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED'])

export function watchConfigs(
  client: ConfigClientCore,
  options: WatchOptions,
): AsyncGenerator<WatchItem, void, undefined> {
  const filters = options.filters ?? {}
  const prefix: Record<string, string> = options.prefix === undefined ? {} : { prefix: options.prefix }
  return resumingWatch<WatchEvent, WatchRelist>(client, options, {
    name: 'watch',
    newest: async () => (await client.list({}, { limit: 1 })).revision,
    path: (since) => `/configs?${new URLSearchParams({ ...filters, ...prefix, watch: 'true', since: String(since) })}`,
    parse: (message) => (CHANGE_TYPES.has(message.event ?? '') ? (JSON.parse(message.data) as WatchEvent) : undefined),
    relist: async () => {
      const { configs, revision } = await client.listAll(filters, prefix)
      return { type: 'RELIST', revision, configs }
    },
  })
}
