/** Deno entry point: the same app as main.ts, served by Deno.serve, storage on node:sqlite. */
import process from 'node:process'
import { exitOnSignals, RequestDrain, shutDown } from './lifecycle.ts'
import { metricsHandler } from './metrics-listener.ts'
import { EXIT_PATIENCE_MS } from './observability/line-sink.ts'
import { stdoutSink } from './observability/stdout-sink.ts'
import { buildService } from './service.ts'
import { loadSettings } from './settings.ts'
import { listeningFields, listenOrExit, startupStep } from './startup.ts'
import { openNodeSqlite } from './store/sqlite/sqlite-node.ts'

declare const Deno: {
  serve(
    options: { port: number; onListen?: (addr: { port: number }) => void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; finished: Promise<void>; addr: { port: number } }
}

const settings = await startupStep(() => loadSettings(process.env))

const service = await startupStep(() => buildService(settings, { openSqlite: openNodeSqlite }))
const { app, store, logger } = service
// Before the API's listener: whoever waits for `listening` finds the metrics port open too.
const { metricsPort } = settings
if (metricsPort !== undefined) {
  const metricsServer = await listenOrExit('METRICS_PORT', metricsPort, () =>
    Deno.serve({ port: metricsPort, onListen: () => {} }, metricsHandler(service.metrics)),
  )
  logger.info({ port: metricsServer.addr.port }, 'metrics listening')
}
const requests = new RequestDrain()
// Deno tells the peer's address to the handler only: it goes to the app's front door with the request.
const handle = requests.track(async (request: Request, peer: string) => app.fetch(request, peer))
const server = await listenOrExit('SERVE_PORT', settings.port, () =>
  Deno.serve(
    {
      port: settings.port,
      onListen: ({ port }) => logger.info(listeningFields(settings, port, store.backend), 'listening'),
    },
    (request, info) => handle(request, info.remoteAddr.hostname),
  ),
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
// Stdout blocks on Deno: the last lines get the exit's patience to leave, and no more.
exitOnSignals(async (signal) => {
  const code = await shutDown(plan, signal)
  await stdoutSink().settle(EXIT_PATIENCE_MS)
  return code
}, logger)
