/**
 * The numbers the metrics keep between scrapes, and what they read at each one. Its own module
 * so that metrics.ts (which loads prometheus-registry.ts on the first scrape) and
 * prometheus-registry.ts (which exposes this state) both import it and not each other.
 */
import type { SeriesTable } from './series-table.ts'

export interface MetricsSources {
  /** How many configs are stored; asked once per scrape. */
  configs: () => Promise<number>
  /** Watch streams connected now (the watch hub's `connected()`). */
  watchers?: () => number
  /** Bytes the watch streams hold for their clients now (the watch hub's `heldBytes()`). */
  watcherHeldBytes?: () => number
  /** Revisions the read model is behind the newest one the store reported. */
  cacheLag?: () => number
  /** How many history entries are stored; asked once per scrape. */
  historyEntries?: () => Promise<number>
  /** History entries this process dropped by retention so far. */
  historyDropped?: () => number
  /** Consumer reports by what they count as now (applied, rejected, expired); asked once per scrape. */
  consumers?: () => Promise<Record<string, number>>
  /** Rollouts by status (the newest 1000); asked once per scrape. */
  rollouts?: () => Promise<Record<string, number>>
}

export type AuthResult = 'allowed' | 'unauthenticated' | 'forbidden'
export type TokenFileReloadResult = 'ok' | 'error'

/** What the metrics hold between scrapes: metrics.ts writes it, prometheus-registry.ts reads it. */
export interface MetricsState {
  sources: MetricsSources
  inFlight: number
  watchersDropped: number
  duration: SeriesTable<'method' | 'route' | 'status'>
  storeDuration: SeriesTable<'operation' | 'backend'>
  cacheWait: SeriesTable<never>
  /** Every result counted from the start (0): a rate over a series that appears late misses its first increase. */
  authDecisions: Record<AuthResult, number>
  tokenFileReloads: Record<TokenFileReloadResult, number>
}
