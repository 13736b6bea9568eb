/**
 * What both entry points share: settings -> logger -> store (seeded) -> app.
 * Runtime-specific pieces (SQLite binding, the HTTP server, signals) stay in main*.ts.
 */
import { createApp } from './app.ts'
import { SEED_CONFIGS } from './configs/model.ts'
import { WatchHub } from './configs/watch.ts'
import { createLogger } from './observability/logger.ts'
import type { Settings } from './settings.ts'
import { openStore, type StoreRuntime } from './store/open-store.ts'

export async function buildService(settings: Settings, runtime: StoreRuntime) {
  const logger = createLogger(settings.logLevel)
  const store = await openStore(settings.database, runtime, { historySize: settings.watchHistorySize })
  if (settings.seed && (await store.seed(SEED_CONFIGS))) {
    logger.info({ configs: SEED_CONFIGS.map((c) => c.dcname) }, 'seeded an empty store')
  }
  const watch = new WatchHub(store, {
    heartbeatMs: settings.watchHeartbeatMs,
    bufferEvents: settings.watchBufferEvents,
    onFellBehind: (lastSent) =>
      logger.warn({ lastSentRevision: lastSent, bufferEvents: settings.watchBufferEvents }, 'watcher fell behind'),
  })
  const app = createApp({
    store,
    watch,
    apiToken: settings.apiToken,
    maxBodyBytes: settings.maxBodyBytes,
    reportError: (error, request) =>
      logger.error({ err: error, method: request.method, url: request.url }, 'request failed'),
  })
  return { app, store, logger, watch }
}
