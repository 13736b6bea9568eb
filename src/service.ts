/**
 * What both entry points share: settings -> logger -> store (seeded) -> app.
 * Runtime-specific pieces (SQLite binding, the HTTP server, signals) stay in main*.ts.
 */
import { createApp } from './app.ts'
import { SEED_ACTOR } from './configs/access.ts'
import { AuthorizedConfigs } from './configs/authorized-configs.ts'
import { ConsumerReports } from './configs/consumer-reports.ts'
import { SEED_CONFIGS } from './configs/model.ts'
import { CachedConfigStore } from './configs/read-model/cached-store.ts'
import type { AnswerBodyKind } from './http/answer-body.ts'
import { Readiness } from './http/health.ts'
import { WatchHub, type WatchOptions } from './http/watch/watch-hub.ts'
import type { ShutdownPlan, StoppableServer } from './lifecycle.ts'
import { instrumentConsumerStore } from './observability/instrumented-consumer-store.ts'
import { instrumentStore } from './observability/instrumented-store.ts'
import { createLogger } from './observability/logger.ts'
import { createMetrics } from './observability/metrics.ts'
import type { LineSink } from './observability/stdout-sink.ts'
import { createTracing } from './observability/tracing.ts'
import { type AccessOptions, openAccess } from './open-access.ts'
import { openConsumerStore } from './open-consumer-store.ts'
import { openRollouts, type RolloutOptions } from './open-rollouts.ts'
import { openStore, type StoreRuntime } from './open-store.ts'
import type { Settings } from './settings.ts'

export interface ServiceOptions {
  /** Replaces stdout as the destination of log lines (tests read them from memory). */
  logSink?: LineSink
  /** The runtime's way to keep a watch stream's connection open (see WatchOptions.holdOpen). */
  holdWatchOpen?: WatchOptions['holdOpen']
  /** The runtime's fastest kind of watch response body (see watch-stream.ts). */
  watchStreamKind?: WatchOptions['streamKind']
  /** The runtime's way to hand large JSON answers to its server (see http/answer-body.ts). */
  answerBodyKind?: AnswerBodyKind
  /** How often the tokens file and the JWT keys are looked at (tests shorten it). */
  access?: AccessOptions
  /** The rollout driver's clock and poll interval (tests end bakes by moving the clock). */
  rollouts?: RolloutOptions
}

export async function buildService(settings: Settings, runtime: StoreRuntime, options: ServiceOptions = {}) {
  const logger = createLogger(settings.logLevel, options.logSink)
  const tracing = await createTracing(settings.tracing, logger)
  const backendStore = await openStore(settings.database, runtime, {
    historySize: settings.watchHistorySize,
    retention: { keep: settings.historyKeep, days: settings.historyRetentionDays },
    postgres: settings.postgres,
    onConnectRetry: (retry) => logger.warn(retry, 'database unavailable at start-up: retrying'),
    onWriteDurability: (problem) =>
      problem === undefined
        ? logger.info('store: writes are durable again')
        : logger.error(
            { problem },
            'store: writes cannot be made durable; they answer 503 and /readyz 503 until they can',
          ),
  })
  const consumerStore = await openConsumerStore(settings.database, runtime, settings.postgres)
  // The gauge asks the backend directly: a scrape is no store operation worth timing or tracing.
  const metrics = createMetrics({
    configs: () => backendStore.count(),
    consumers: () => consumers.countStates(),
    historyEntries: () => backendStore.countHistory(),
    historyDropped: () => backendStore.droppedHistory(),
  })
  // Reads are answered from memory (see cached-store.ts); a SQLite store is written by this
  // process alone and tells the model of each write in its commit, so its reads need not wait.
  const cache = new CachedConfigStore(backendStore, {
    consistency: backendStore.backend === 'sqlite' ? 'synchronous' : 'revision',
    waitTimeoutMs: settings.cacheWaitTimeoutMs,
    onWait: (seconds) => metrics.cacheWait(seconds),
    onReload: (error) => logger.warn({ err: error }, 'read model: loading it again from the store'),
  })
  metrics.setCacheLagSource(() => cache.lag())
  const consumers = new ConsumerReports(
    instrumentConsumerStore(consumerStore, backendStore.backend, { metrics, tracing }),
    settings.consumers,
  )
  const store = instrumentStore(cache, { metrics, tracing, logger })
  const access = await openAccess(settings, logger, metrics, options.access)
  if (settings.seed && (await store.seed(SEED_CONFIGS, { actor: SEED_ACTOR, requestId: '' }))) {
    logger.info({ configs: SEED_CONFIGS.map((c) => c.dcname) }, 'seeded an empty store')
  }
  // Until it is loaded, the store answers reads itself: readiness does not wait for the load.
  void cache.start()
  const watch = new WatchHub(store, {
    heartbeatMs: settings.watchHeartbeatMs,
    bufferEvents: settings.watchBufferEvents,
    bufferBytes: settings.watchBufferBytes,
    holdOpen: options.holdWatchOpen,
    streamKind: options.watchStreamKind,
    onFellBehind: (lastSent) => {
      metrics.watcherDropped()
      const { watchBufferEvents: bufferEvents, watchBufferBytes: bufferBytes } = settings
      logger.warn({ lastSentRevision: lastSent, bufferEvents, bufferBytes }, 'watcher fell behind')
    },
  })
  metrics.setWatcherSource(
    () => watch.connected(),
    () => watch.heldBytes(),
  )
  const rollouts = await openRollouts(
    settings,
    runtime,
    new AuthorizedConfigs(store),
    {
      // A rollout's write is audited as a request's is: who, what, which config, which revision.
      onWrite: (write) => logger.info({ ...write, status: 200, requestId: `rollout-${write.rollout}` }, 'audit'),
      onError: (error, rollout) => logger.warn({ err: error, rollout }, 'rollout: a step failed; it is tried again'),
    },
    consumers,
    options.rollouts,
  )
  rollouts.driver.start()
  metrics.setRolloutSource(async () => {
    const counts: Record<string, number> = {}
    for (const { rollout } of (await rollouts.store.list({ limit: 1000 })).items) {
      counts[rollout.status] = (counts[rollout.status] ?? 0) + 1
    }
    return counts
  })
  const readiness = new Readiness()
  const app = createApp({
    store,
    readiness,
    reportStoreDown: (error) => logger.warn({ err: error }, 'readiness: the store failed its ping'),
    watch,
    rollouts: rollouts.deps,
    observability: { metrics, tracing, logger, serveMetrics: settings.metricsPort === undefined },
    access,
    maxBodyBytes: settings.maxBodyBytes,
    answerBodyKind: options.answerBodyKind,
    audit: (entry) => logger.info(entry, 'audit'),
    consumers,
    reportError: (error, request) =>
      logger.error({ err: error, method: request.method, url: request.url }, 'request failed'),
  })
  // flushTraces exports the spans still buffered and stops the exporter: once, at shutdown.
  const flushTraces = () => tracing.shutdown()
  /** The shutdown sequence of this service around the runtime's server (src/lifecycle.ts). */
  const shutdownPlan = (server: StoppableServer): ShutdownPlan => ({
    readiness,
    delayMs: settings.shutdownDelayMs,
    timeoutMs: settings.shutdownTimeoutMs,
    server,
    closeWatchStreams: () => watch.closeAll(),
    flushTraces,
    closeStore: async () => {
      access.close()
      await rollouts.close()
      // Reports still queued are stored before the stores close.
      await consumers.close().catch((error) => logger.warn({ err: error }, 'consumer reports: not all were stored'))
      return store.close()
    },
    logger,
  })
  return { app, store, consumers, logger, watch, readiness, metrics, access, rollouts, flushTraces, shutdownPlan }
}
