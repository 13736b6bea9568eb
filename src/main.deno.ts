/** Deno entry point: the same app as main.ts, served by Deno.serve, storage on node:sqlite. */
import process from 'node:process'
import { buildService } from './service.ts'
import { loadSettings, SettingsError } from './settings.ts'
import { openNodeSqlite } from './store/sqlite-node.ts'

declare const Deno: {
  serve(
    options: { port: number; onListen?: (addr: { port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; finished: Promise<void> }
}

let settings: ReturnType<typeof loadSettings>
try {
  settings = loadSettings(process.env)
} catch (error) {
  if (!(error instanceof SettingsError)) throw error
  console.error(error.message)
  process.exit(2)
}

const { app, store, logger } = await buildService(settings, { openSqlite: openNodeSqlite })
const server = Deno.serve(
  { port: settings.port, onListen: ({ port }) => logger.info({ port, store: store.backend }, 'listening') },
  (request) => app.fetch(request),
)

let stopping = false
const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'shutting down')
  await server.shutdown()
  await store.close()
  logger.info('stopped')
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
