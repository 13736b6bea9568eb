/** Bun entry point: settings, store, app, listen, signals. Nothing else. */
import { runtimeBodyLimit } from './http/json-body.ts'
import { exitOnSignals, shutDown } from './lifecycle.ts'
import { metricsHandler } from './metrics-listener.ts'
import { buildService } from './service.ts'
import { loadSettings } from './settings.ts'
import { listeningFields, listenOrExit, startupStep } from './startup.ts'
import { openBunSqlite } from './store/sqlite/sqlite-bun.ts'

const settings = await startupStep(() => loadSettings(process.env))

const service = await startupStep(() => buildService(settings, { openSqlite: openBunSqlite }))
const { app, store, logger } = service
// Before the API's listener: whoever waits for `listening` finds the metrics port open too.
const { metricsPort } = settings
if (metricsPort !== undefined) {
  const metricsServer = await listenOrExit('METRICS_PORT', metricsPort, () =>
    Bun.serve({ port: metricsPort, fetch: metricsHandler(service.metrics) }),
  )
  logger.info({ port: metricsServer.port }, 'metrics listening')
}
const server = await listenOrExit('SERVE_PORT', settings.port, () =>
  Bun.serve({ port: settings.port, fetch: app.fetch, maxRequestBodySize: runtimeBodyLimit(settings.maxBodyBytes) }),
)
logger.info(listeningFields(settings, server.port ?? settings.port, store.backend), 'listening')

// Without force, Bun's stop() lets requests in flight finish and resolves when they have.
const plan = service.shutdownPlan({ stop: () => server.stop(), forceStop: () => server.stop(true) })
exitOnSignals((signal) => shutDown(plan, signal), logger)
