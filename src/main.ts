/** Bun entry point: settings, store, app, listen, signals. Nothing else. */
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

const { app, store, logger } = await buildService(settings, { openSqlite: openBunSqlite })
const server = Bun.serve({ port: settings.port, fetch: app.fetch, maxRequestBodySize: settings.maxBodyBytes * 2 })
logger.info({ port: server.port, store: store.backend }, 'listening')

let stopping = false
const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'shutting down')
  await server.stop()
  await store.close()
  logger.info('stopped')
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
