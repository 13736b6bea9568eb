/**
 * What a filtered watcher sees: the configs that match its filters, as a view that configs enter
 * and leave. As in Kubernetes' watch cache, a config that starts matching arrives as ADDED, one
 * that changes while matching as MODIFIED, and one that stops matching (or is deleted while
 * matching) as DELETED; a config that was not in the view before a write nor after it is not
 * mentioned. A client that mirrors the view from a filtered list plus the watch therefore
 * holds exactly the matching configs, and never hears of others.
 *
 * Whether a config was in the view before a write is read from the event where it can be: an
 * ADDED config was nowhere, a DELETED one carries its last state, and a MODIFIED event replayed
 * from the history carries its previous state. So a replay (`since`) sends exactly what a
 * watcher connected since that revision was sent. A live MODIFIED event carries no previous
 * state: the view keeps the names of the configs in it, starting from the matching set read
 * when the watch starts and updated by every event, replayed ones included. Live events all
 * come after that read, so the names are exact for them.
 *
 * A watcher limited to dcname prefixes (its caller's access scope) is never told of a config
 * outside them, in any event; a dcname never changes, so such a config can neither enter nor
 * leave the view, and inside the prefixes the rules above hold unchanged.
 */
import type { ChangeEvent, ChangeType, Filter } from './config-store.ts'
import { matchesFilters } from './filter-match.ts'

export class WatchView {
  constructor(
    private readonly filters: readonly Filter[],
    /** Names matching when the watch started; empty when there are no filters. */
    private readonly held: Set<string>,
    /** Only configs whose dcname starts with one of these; undefined: every config. */
    private readonly prefixes?: readonly string[],
  ) {}

  static unfiltered(prefixes?: readonly string[]): WatchView {
    return new WatchView([], new Set(), prefixes)
  }

  /** The event this watcher is sent for a store event, or undefined when it is not concerned. */
  see(event: ChangeEvent): ChangeEvent | undefined {
    const name = event.config.dcname
    if (this.prefixes !== undefined && !this.prefixes.some((prefix) => name.startsWith(prefix))) return undefined
    if (this.filters.length === 0) return event
    const wasIn = this.wasIn(event)
    const isIn = event.type !== 'DELETED' && matchesFilters(event.config, this.filters)
    if (isIn) this.held.add(name)
    else this.held.delete(name)
    if (isIn) return as(event, wasIn ? 'MODIFIED' : 'ADDED')
    return wasIn ? as(event, 'DELETED') : undefined
  }

  private wasIn(event: ChangeEvent): boolean {
    switch (event.type) {
      case 'ADDED':
        return false
      case 'DELETED':
        return matchesFilters(event.config, this.filters)
      case 'MODIFIED':
        return event.previous === undefined
          ? this.held.has(event.config.dcname)
          : matchesFilters(event.previous, this.filters)
    }
  }
}

/** The event as this watcher sees it: the store's own object when the type is the same. */
function as(event: ChangeEvent, type: ChangeType): ChangeEvent {
  return event.type === type ? event : { ...event, type }
}
