/** Deno entry point: the same app as main.ts, served by Deno.serve, storage on node:sqlite. */
import process from 'node:process'
import { exitOnSignals, RequestDrain, shutDown } from './lifecycle.ts'
import { buildService } from './service.ts'
import { settingsOrExit } from './settings.ts'
import { openNodeSqlite } from './store/sqlite/sqlite-node.ts'

declare const Deno: {
  serve(
    options: { port: number; onListen?: (addr: { port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; finished: Promise<void> }
}

const settings = settingsOrExit(process.env)

const service = await buildService(settings, { openSqlite: openNodeSqlite })
const { app, store, logger } = service
const requests = new RequestDrain()
const server = Deno.serve(
  { port: settings.port, onListen: ({ port }) => logger.info({ port, store: store.backend }, 'listening') },
  requests.track(async (request) => app.fetch(request)),
)

const plan = service.shutdownPlan({
  // Handlers first, then the listener: Deno's shutdown() breaks request bodies still being read
  // (see RequestDrain). Meanwhile new requests get a 503.
  stop: async () => {
    await requests.close()
    await server.shutdown()
  },
  // Deno cannot cut connections off; the exit that follows does.
  forceStop: () => {},
})
exitOnSignals((signal) => shutDown(plan, signal), logger)
