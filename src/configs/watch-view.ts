/**
 * What a filtered watcher sees: the configs that match its filters, as a view that configs enter
 * and leave. As in Kubernetes' watch cache, a config that starts matching arrives as ADDED and
 * one that stops matching arrives as DELETED, so a client that mirrors the view from a filtered
 * list plus the watch never keeps a config that no longer matches.
 *
 * Store events carry only the new state, so the view keeps the names of the configs the client
 * may hold: the matching set at `snapshotRevision` (read when the watch starts), kept up to date
 * by every event. For events up to that revision (replayed history, or writes racing the start),
 * what the client holds is unknown: a non-matching MODIFIED is then sent as DELETED in case the
 * client had it. A DELETED for a config the client does not hold is a no-op for it; a missing
 * one would leave a stale entry, so the view errs on the side of sending.
 */
import type { ChangeEvent, Filter } from './config-store.ts'
import { matchesFilters } from './filter-match.ts'

export class WatchView {
  constructor(
    private readonly filters: readonly Filter[],
    /** Names matching at `snapshotRevision`; empty when there are no filters. */
    private readonly held: Set<string>,
    private readonly snapshotRevision: number,
  ) {}

  static unfiltered(): WatchView {
    return new WatchView([], new Set(), 0)
  }

  /** The event this watcher is sent for a store event, or undefined when it is not concerned. */
  see(event: ChangeEvent): ChangeEvent | undefined {
    if (this.filters.length === 0) return event
    const name = event.config.dcname
    const matches = matchesFilters(event.config, this.filters)
    const known = event.revision > this.snapshotRevision
    const held = this.held.has(name)
    if (event.type === 'DELETED') {
      this.held.delete(name)
      return matches || held ? event : undefined
    }
    if (matches) {
      this.held.add(name)
      return known && !held ? { ...event, type: 'ADDED' } : event
    }
    this.held.delete(name)
    if (held || (!known && event.type === 'MODIFIED')) return { ...event, type: 'DELETED' }
    return undefined
  }
}
