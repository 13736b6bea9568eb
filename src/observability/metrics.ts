/**
 * Prometheus metrics on a registry of their own (not prom-client's global one), so several apps
 * in one process (the tests) never share or collide. Values that already live elsewhere (the
 * stored count, connected watchers, requests in flight) are read at scrape time in collect().
 */
import process from 'node:process'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import pkg from '../../package.json' with { type: 'json' }
import { SeriesHistogram } from './series-histogram.ts'
import { droppedStdoutLines } from './stdout-sink.ts'

const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** From half a millisecond (a cached read) to ten seconds (a stuck request). */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

interface MetricsSources {
  /** How many configs are stored; asked once per scrape. */
  configs: () => Promise<number>
  /** Watch streams connected now (the watch hub's `connected()`). */
  watchers?: () => number
  /** How many history entries are stored; asked once per scrape. */
  historyEntries?: () => Promise<number>
  /** History entries this process dropped by retention so far. */
  historyDropped?: () => number
}

export interface Metrics {
  readonly contentType: string
  /** One finished HTTP request, by bounded labels (see route-label.ts). */
  observeRequest(method: string, route: string, status: number, seconds: number): void
  requestStarted(): void
  requestFinished(): void
  /** The latency series of one store operation; callers keep it and call observe(seconds). */
  storeOperation(operation: string, backend: string): { observe(seconds: number): void }
  /** Reads watchers from here on (for a watch hub built after the metrics). */
  setWatcherSource(watchers: () => number): void
  /** A watch stream the service ended because its client fell too far behind. */
  watcherDropped(): void
  /** One decision of the access gate, or a refusal by a route's own check. */
  authDecision(result: 'allowed' | 'unauthenticated' | 'forbidden'): void
  /** A changed API_TOKENS_FILE was loaded (`ok`) or refused, keeping the tokens in force (`error`). */
  tokenFileReload(result: 'ok' | 'error'): void
  /** The whole exposition, text format 0.0.4. */
  scrape(): Promise<string>
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry()
  const registers = [registry]
  let inFlight = 0
  let watchers = sources.watchers

  const duration = new SeriesHistogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to its response being ready, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  })
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
    // The same observations as the histogram's count, so one record per request feeds both.
    collect() {
      this.reset()
      for (const series of duration.allSeries()) this.inc(series.labels, series.count)
    },
  })
  new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being handled now.',
    registers,
    collect() {
      this.set(inFlight)
    },
  })
  new Gauge({
    name: 'configs',
    help: 'Configs stored.',
    registers,
    async collect() {
      // A store that cannot answer must not fail the whole scrape: /readyz reports it.
      try {
        this.set(await sources.configs())
      } catch {
        this.reset()
      }
    },
  })
  new Gauge({
    name: 'history_entries',
    help: 'History entries stored, every config together.',
    registers,
    async collect() {
      // As for `configs`: a store that cannot answer leaves the series out of this scrape.
      try {
        this.set((await sources.historyEntries?.()) ?? 0)
      } catch {
        this.reset()
      }
    },
  })
  new Counter({
    name: 'history_entries_dropped_total',
    help: 'History entries dropped by retention (HISTORY_KEEP, HISTORY_RETENTION_DAYS) by this process.',
    registers,
    collect() {
      this.reset()
      this.inc(sources.historyDropped?.() ?? 0)
    },
  })
  const storeDuration = new SeriesHistogram({
    name: 'store_operation_duration_seconds',
    help: 'Time of config store calls, by operation and backend.',
    labelNames: ['operation', 'backend'] as const,
    buckets: STORE_BUCKETS,
    registers,
  })
  new Gauge({
    name: 'watchers_connected',
    help: 'Watch streams (GET /configs?watch=true) open now.',
    registers,
    collect() {
      this.set(watchers?.() ?? 0)
    },
  })
  const watchersDropped = new Counter({
    name: 'watchers_dropped_total',
    help: 'Watch streams ended by the service because the client fell more than WATCH_BUFFER_EVENTS behind.',
    registers,
  })
  new Gauge({
    name: 'config_service_build_info',
    help: 'Always 1; the labels tell the version and the runtime serving it.',
    labelNames: ['version', 'runtime', 'runtime_version'] as const,
    registers,
  }).set({ version: pkg.version, ...runtimeInfo() }, 1)

  new Counter({
    name: 'log_lines_dropped_total',
    help: 'Log lines given up because stdout stayed full past the queue bound, or was closed.',
    registers,
    collect() {
      this.reset()
      this.inc(droppedStdoutLines())
    },
  })

  const authDecisions = new Counter({
    name: 'auth_decisions_total',
    help: 'Access decisions on API requests, by result: allowed, unauthenticated (401), forbidden (403).',
    labelNames: ['result'] as const,
    registers,
  })
  const tokenFileReloads = new Counter({
    name: 'auth_token_file_reloads_total',
    help: 'Changes of API_TOKENS_FILE seen, by result: ok (in force now) or error (refused; the previous tokens stay).',
    labelNames: ['result'] as const,
    registers,
  })
  // Every result from the start: a rate over a series that appears late misses its first increase.
  for (const result of ['allowed', 'unauthenticated', 'forbidden']) authDecisions.inc({ result }, 0)
  for (const result of ['ok', 'error']) tokenFileReloads.inc({ result }, 0)

  const processMetrics = defaultMetrics()

  return {
    contentType: METRICS_CONTENT_TYPE,
    observeRequest(method, route, status, seconds) {
      duration.series(`${method} ${route} ${status}`, () => ({ method, route, status })).observe(seconds)
    },
    requestStarted() {
      inFlight++
    },
    requestFinished() {
      inFlight--
    },
    storeOperation(operation, backend) {
      return storeDuration.series(`${operation} ${backend}`, () => ({ operation, backend }))
    },
    setWatcherSource(source) {
      watchers = source
    },
    watcherDropped() {
      watchersDropped.inc()
    },
    authDecision(result) {
      authDecisions.inc({ result })
    },
    tokenFileReload(result) {
      tokenFileReloads.inc({ result })
    },
    async scrape() {
      const own = await registry.metrics()
      const runtime = await processMetrics()
      return runtime === '' ? own : `${own}\n${runtime}`
    },
  }
}

/**
 * prom-client's process and runtime metrics, each read on its own: whatever the runtime lacks
 * (Deno and Bun implement different parts of the Node API) is left out instead of failing the
 * scrape.
 */
function defaultMetrics(): () => Promise<string> {
  const registry = new Registry()
  try {
    collectDefaultMetrics({ register: registry })
  } catch {
    return async () => ''
  }
  const names = registry.getMetricsAsArray().map((metric) => metric.name)
  return async () => {
    const parts: string[] = []
    for (const name of names) {
      try {
        const text = await registry.getSingleMetricAsString(name)
        // NaN (prom-client writes "Nan") is what a runtime that does not measure a value
        // reports, e.g. event-loop lag on Bun: left out rather than shown as data.
        if (!/ Nan$/m.test(text)) parts.push(text)
      } catch {
        // Left out of this scrape only; the next one tries again.
      }
    }
    return parts.length === 0 ? '' : `${parts.join('\n\n')}\n`
  }
}

function runtimeInfo(): { runtime: string; runtime_version: string } {
  const versions = process.versions as Record<string, string | undefined>
  if (versions.bun) return { runtime: 'bun', runtime_version: versions.bun }
  if (versions.deno) return { runtime: 'deno', runtime_version: versions.deno }
  return { runtime: 'node', runtime_version: versions.node ?? 'unknown' }
}
