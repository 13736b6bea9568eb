/**
 * Where a watch starts, read from the store: the view of a filtered watch (the configs matching
 * when it starts), the revision after which it takes events in, and how its replay reads the kept
 * history. The watcher then takes every event once, in revision order (watch-position.ts), and
 * joins the replay to the live events (early-events.ts).
 */
import {
  type ChangeEvent,
  type ChangeFeed,
  type ChangePage,
  type ConfigReader,
  type Filter,
  HistoryCompactedError,
} from '../config-store.ts'
import { MAX_LIMIT } from '../list-limits.ts'
import { WatchView } from '../watch-view.ts'

/** One page of the kept history after a revision, at most `limit` events and about `bytes` bytes. */
export type ReadChanges = (after: number, limit: number, bytes: number) => Promise<ChangePage>

export interface WatchQuery {
  /** Replay kept history after this revision first; undefined means live events only. */
  since?: number
  filters: Filter[]
  /** Only configs inside these dcname prefixes (the caller's scope); undefined: every config. */
  prefixes?: readonly string[]
}

export interface WatchStart {
  view: WatchView
  /** The revision after which the watch takes events in. */
  from: number
  readChanges: ReadChanges
  /** Read the kept history after `from` before going live. */
  replay: boolean
}

/** Call after subscribing to the change feed, so nothing committed meanwhile is lost. */
export async function watchStart(
  store: Pick<ConfigReader, 'list'> & Pick<ChangeFeed, 'changesAfter'>,
  query: WatchQuery,
): Promise<WatchStart> {
  const { view, revision } = await viewFor(store, query.filters, query.prefixes)
  // Without `since`, the watch starts at the current revision: a store may still deliver a
  // few changes that committed just before the subscription (PostgreSQL's feed does).
  const from = query.since ?? revision ?? (await store.list({ filters: [], limit: 1 })).revision
  const readChanges = pageReader(store, query.filters.length > 0)
  return { view, from, readChanges, replay: query.since !== undefined }
}

/** A filtered watch starts from the set of configs matching now, read at `revision` (see WatchView). */
async function viewFor(
  store: Pick<ConfigReader, 'list'>,
  filters: Filter[],
  prefixes: readonly string[] | undefined,
): Promise<{ view: WatchView; revision?: number }> {
  if (filters.length === 0) return { view: WatchView.unfiltered(prefixes) }
  const held = new Set<string>()
  let revision = 0
  let after: string | undefined
  for (;;) {
    const page = await store.list({ filters, limit: MAX_LIMIT, after, prefixes })
    for (const item of page.items) held.add(item.config.dcname)
    revision = Math.max(revision, page.revision)
    after = page.items.at(-1)?.config.dcname
    if (!page.more || after === undefined) break
  }
  return { view: new WatchView(filters, held, prefixes), revision }
}

/** Pages of the kept history; a filtered view needs each MODIFIED event's previous state. */
function pageReader(feed: Pick<ChangeFeed, 'changesAfter'>, filtered: boolean): ReadChanges {
  return async (after, limit, bytes) => {
    const page = await feed.changesAfter({ after, limit, bytes })
    if (filtered) requirePreviousStates(after, page.events)
    return page
  }
}

/**
 * A filtered replay tells from each MODIFIED event's previous state whether the config was in the
 * view before (see WatchView). Events kept by a build that did not store it (before an upgrade,
 * or by an older replica during a rolling update) cannot tell: the history counts as compacted up
 * to the last of them, so the client lists again rather than get a wrong replay (a 410 when the
 * first page holds one, a final ERROR event when a later one does).
 */
function requirePreviousStates(after: number, page: readonly ChangeEvent[]): void {
  const blind = page.findLast((event) => event.type === 'MODIFIED' && event.previous === undefined)
  if (blind) throw new HistoryCompactedError(after, blind.revision)
}
