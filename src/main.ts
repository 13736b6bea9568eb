/** Bun entry point: settings, store, app, listen, signals. Nothing else. */
import { exitOnSignals, shutDown } from './lifecycle.ts'
import { buildService } from './service.ts'
import { settingsOrExit } from './settings.ts'
import { openBunSqlite } from './store/sqlite/sqlite-bun.ts'

const settings = settingsOrExit(process.env)

const service = await buildService(settings, { openSqlite: openBunSqlite })
const { app, store, logger } = service
const server = Bun.serve({ port: settings.port, fetch: app.fetch, maxRequestBodySize: settings.maxBodyBytes * 2 })
logger.info({ port: server.port, store: store.backend }, 'listening')

// Without force, Bun's stop() lets requests in flight finish and resolves when they have.
const plan = service.shutdownPlan({ stop: () => server.stop(), forceStop: () => server.stop(true) })
exitOnSignals((signal) => shutDown(plan, signal), logger)
