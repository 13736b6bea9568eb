/** Bun entry point: settings, store, app, listen, signals. Nothing else. */
import { exitOnSignals, shutDown } from './lifecycle.ts'
import { buildService } from './service.ts'
import { loadSettings, SettingsError } from './settings.ts'
import { openBunSqlite } from './store/sqlite-bun.ts'

let settings: ReturnType<typeof loadSettings>
try {
  settings = loadSettings(process.env)
} catch (error) {
  if (!(error instanceof SettingsError)) throw error
  console.error(error.message)
  process.exit(2)
}

const service = await buildService(settings, { openSqlite: openBunSqlite })
const { app, store, logger } = service
const server = Bun.serve({ port: settings.port, fetch: app.fetch, maxRequestBodySize: settings.maxBodyBytes * 2 })
logger.info({ port: server.port, store: store.backend }, 'listening')

exitOnSignals(
  (signal) =>
    shutDown(
      {
        readiness: service.readiness,
        delayMs: settings.shutdownDelayMs,
        timeoutMs: settings.shutdownTimeoutMs,
        // Without force, Bun's stop() lets requests in flight finish and resolves when they have.
        server: { stop: () => server.stop(), forceStop: () => server.stop(true) },
        closeWatchStreams: () => service.watch.closeAll(),
        flushTraces: service.flushTraces,
        closeStore: () => store.close(),
        logger,
      },
      signal,
    ),
  logger,
)
