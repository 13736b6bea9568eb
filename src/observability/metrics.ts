/**
 * The service's metrics as the hot paths record them: plain numbers and histogram series
 * (series-table.ts), no library call per request. prom-client (prometheus-registry.ts) is
 * loaded on the first scrape, not at start-up, where it cost a sixth of the time to ready; it
 * then exposes these same numbers, and values that live elsewhere (the stored count, connected
 * watchers, the read model's lag) are read at each scrape.
 */
import type { AuthResult, MetricsSources, MetricsState, TokenFileReloadResult } from './metrics-state.ts'
import { type Series, SeriesTable } from './series-table.ts'

const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** From half a millisecond (a cached read) to ten seconds (a stuck request). */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

export interface Metrics {
  readonly contentType: string
  /** One finished HTTP request, by bounded labels (see route-label.ts). */
  observeRequest(method: string, route: string, status: number, seconds: number): void
  requestStarted(): void
  requestFinished(): void
  /** The latency series of one store operation; callers keep it and call observe(seconds). */
  storeOperation(operation: string, backend: string): { observe(seconds: number): void }
  /** Reads watchers and the bytes they hold from here on (for a watch hub built after the metrics). */
  setWatcherSource(watchers: () => number, heldBytes?: () => number): void
  /** A watch stream the service ended because its client fell too far behind. */
  watcherDropped(): void
  /** How long one read waited for the read model to catch up with the store (revision query included). */
  cacheWait(seconds: number): void
  /** Reads the read model's lag from here on (for a read model built after the metrics). */
  setCacheLagSource(lag: () => number): void
  /** Reads the rollouts by status from here on (they open after the metrics). */
  setRolloutSource(rollouts: () => Promise<Record<string, number>>): void
  /** One decision of the access gate, or a refusal by a route's own check. */
  authDecision(result: AuthResult): void
  /** A changed API_TOKENS_FILE was loaded (`ok`) or refused, keeping the tokens in force (`error`). */
  tokenFileReload(result: TokenFileReloadResult): void
  /** The whole exposition, text format 0.0.4. */
  scrape(): Promise<string>
}

export function createMetrics(sources: MetricsSources): Metrics {
  const state: MetricsState = {
    sources: { ...sources },
    inFlight: 0,
    watchersDropped: 0,
    duration: new SeriesTable('http_request_duration_seconds', ['method', 'route', 'status'], HTTP_BUCKETS),
    storeDuration: new SeriesTable('store_operation_duration_seconds', ['operation', 'backend'], STORE_BUCKETS),
    cacheWait: new SeriesTable('cache_wait_seconds', [], STORE_BUCKETS),
    authDecisions: { allowed: 0, unauthenticated: 0, forbidden: 0 },
    tokenFileReloads: { ok: 0, error: 0 },
  }
  // Exposed from the first scrape on, even before any read waited.
  const cacheWait: Series<never> = state.cacheWait.series('', () => ({}))
  let exposition: Promise<() => Promise<string>> | undefined
  // Each request's series, found by its labels one at a time: a key joined from all three would be
  // a new string to build and hash on every request.
  const byLabels = new Map<string, Map<string, Map<number, Series<'method' | 'route' | 'status'>>>>()
  const requestSeries = (method: string, route: string, status: number) => {
    let byRoute = byLabels.get(method)
    if (!byRoute) {
      byRoute = new Map()
      byLabels.set(method, byRoute)
    }
    let byStatus = byRoute.get(route)
    if (!byStatus) {
      byStatus = new Map()
      byRoute.set(route, byStatus)
    }
    let series = byStatus.get(status)
    if (!series) {
      series = state.duration.series(`${method} ${route} ${status}`, () => ({ method, route, status }))
      byStatus.set(status, series)
    }
    return series
  }

  return {
    contentType: METRICS_CONTENT_TYPE,
    observeRequest(method, route, status, seconds) {
      requestSeries(method, route, status).observe(seconds)
    },
    requestStarted() {
      state.inFlight++
    },
    requestFinished() {
      state.inFlight--
    },
    storeOperation(operation, backend) {
      return state.storeDuration.series(`${operation} ${backend}`, () => ({ operation, backend }))
    },
    setWatcherSource(watchers, heldBytes) {
      state.sources.watchers = watchers
      state.sources.watcherHeldBytes = heldBytes
    },
    watcherDropped() {
      state.watchersDropped++
    },
    cacheWait(seconds) {
      cacheWait.observe(seconds)
    },
    setCacheLagSource(source) {
      state.sources.cacheLag = source
    },
    setRolloutSource(source) {
      state.sources.rollouts = source
    },
    authDecision(result) {
      state.authDecisions[result]++
    },
    tokenFileReload(result) {
      state.tokenFileReloads[result]++
    },
    async scrape() {
      exposition ??= import('./prometheus-registry.ts').then(({ buildRegistry }) => buildRegistry(state))
      return (await exposition)()
    },
  }
}
