/**
 * The Prometheus side of metrics.ts: prom-client's registry, metric names, help texts and
 * formatting, and the runtime's default process metrics. This module (and prom-client with it)
 * is loaded on the first scrape, not at start-up: until then the numbers collect in
 * metrics.ts's plain state, which the metrics here read (histograms share its series tables,
 * the rest is read at scrape time in collect()).
 */
import process from 'node:process'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import pkg from '../../package.json' with { type: 'json' }
import { ROLLOUT_STATUSES } from '../configs/rollouts/rollout-model.ts'
import type { MetricsState } from './metrics-state.ts'
import { SeriesHistogram } from './series-histogram.ts'
import { droppedStdoutLines } from './stdout-sink.ts'

/** A registry of its own (not prom-client's global one): several apps in one process never collide. */
export function buildRegistry(state: MetricsState): () => Promise<string> {
  const registry = new Registry()
  const registers = [registry]

  const duration = new SeriesHistogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to its response being ready, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [...state.duration.bounds],
    registers,
    table: state.duration,
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
      this.set(state.inFlight)
    },
  })
  new Gauge({
    name: 'configs',
    help: 'Configs stored.',
    registers,
    async collect() {
      // A store that cannot answer must not fail the whole scrape: /readyz reports it.
      try {
        this.set(await state.sources.configs())
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
        this.set((await state.sources.historyEntries?.()) ?? 0)
      } catch {
        this.reset()
      }
    },
  })
  new Gauge({
    name: 'config_consumers',
    help: 'Consumer reports, every config together, by what they count as now: applied, rejected or expired (none within CONSUMERS_TTL_MS).',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      // As for `configs`: a store that cannot answer leaves the series out of this scrape.
      try {
        const counts = (await state.sources.consumers?.()) ?? {}
        for (const label of ['applied', 'rejected', 'expired']) this.set({ state: label }, counts[label] ?? 0)
      } catch {
        this.reset()
      }
    },
  })
  new Gauge({
    name: 'config_rollouts',
    help: 'Rollouts by status (of the newest 1000): pending-approval, applying, baking, paused, reverting, reverted, completed, aborted.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      try {
        const counts = (await state.sources.rollouts?.()) ?? {}
        for (const status of ROLLOUT_STATUSES) this.set({ status }, counts[status] ?? 0)
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
      this.inc(state.sources.historyDropped?.() ?? 0)
    },
  })
  new SeriesHistogram({
    name: 'store_operation_duration_seconds',
    help: 'Time of config store calls, by operation and backend.',
    labelNames: ['operation', 'backend'] as const,
    buckets: [...state.storeDuration.bounds],
    registers,
    table: state.storeDuration,
  })
  new Gauge({
    name: 'watchers_connected',
    help: 'Watch streams (GET /configs, /schemas or /rollouts with watch=true) open now.',
    registers,
    collect() {
      this.set(state.sources.watchers?.() ?? 0)
    },
  })
  new Gauge({
    name: 'watchers_held_bytes',
    help: 'Bytes of events the watch streams hold for their clients now: queued, or handed to the connection and not yet taken by it (each at most WATCH_BUFFER_BYTES).',
    registers,
    collect() {
      this.set(state.sources.watcherHeldBytes?.() ?? 0)
    },
  })
  new Counter({
    name: 'watchers_dropped_total',
    help: 'Watch streams ended by the service because the client fell more than WATCH_BUFFER_EVENTS or WATCH_BUFFER_BYTES behind, or read nothing while its replay waited.',
    registers,
    collect() {
      this.reset()
      this.inc(state.watchersDropped)
    },
  })
  new SeriesHistogram({
    name: 'cache_wait_seconds',
    help: 'Time a read waited before the in-memory read model could answer it: the store revision query and catching up with that revision (PostgreSQL; on SQLite the model is updated in the commit and reads do not wait).',
    labelNames: [] as const,
    buckets: [...state.cacheWait.bounds],
    registers,
    table: state.cacheWait,
  })
  new Gauge({
    name: 'cache_revision_lag',
    help: 'Revisions the in-memory read model is behind the newest revision the store reported.',
    registers,
    collect() {
      this.set(state.sources.cacheLag?.() ?? 0)
    },
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

  new Counter({
    name: 'auth_decisions_total',
    help: 'Access decisions on API requests, by result: allowed, unauthenticated (401), forbidden (403).',
    labelNames: ['result'] as const,
    registers,
    collect() {
      this.reset()
      for (const [result, count] of Object.entries(state.authDecisions)) this.inc({ result }, count)
    },
  })
  new Counter({
    name: 'auth_token_file_reloads_total',
    help: 'Changes of API_TOKENS_FILE seen, by result: ok (in force now) or error (refused; the previous tokens stay).',
    labelNames: ['result'] as const,
    registers,
    collect() {
      this.reset()
      for (const [result, count] of Object.entries(state.tokenFileReloads)) this.inc({ result }, count)
    },
  })

  const processMetrics = defaultMetrics()
  return async () => {
    const own = await registry.metrics()
    const runtime = await processMetrics()
    return runtime === '' ? own : `${own}\n${runtime}`
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
