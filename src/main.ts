/** Bun entry point: settings, store, app, listen, signals. Nothing else. */
import { runtimeBodyLimit } from './http/json-body.ts'
import { exitOnSignals, shutDown } from './lifecycle.ts'
import { metricsHandler } from './metrics-listener.ts'
import { buildService } from './service.ts'
import { loadSettings } from './settings.ts'
import { listeningFields, listenOrExit, startupStep } from './startup.ts'
import { openBunSqlite } from './store/sqlite/sqlite-bun.ts'

/** Bun.serve closes a connection idle this long (its default, made explicit to restore it below). */
const IDLE_TIMEOUT_S = 10

const settings = await startupStep(() => loadSettings(process.env))

const service = await startupStep(() =>
  buildService(
    settings,
    { openSqlite: openBunSqlite },
    {
      // A watch stream is idle between events by design, for longer than the idle timeout when
      // WATCH_HEARTBEAT_MS is (15 s by default), so the timeout is lifted for each stream alone:
      // idle keep-alive connections still time out. Tying the heart-beat to the server's timeout
      // instead would take that setting away from the proxies it is for. Bun keeps a lifted
      // timeout on the connection after the response, so it is put back when the stream ends.
      holdWatchOpen: (request) => {
        server.timeout(request, 0)
        return () => server.timeout(request, IDLE_TIMEOUT_S)
      },
      watchStreamKind: 'direct',
      // Large reads completed late leave in two sends instead of about fifteen (http/answer-body.ts).
      answerBodyKind: 'one-chunk',
    },
  ),
)
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
  Bun.serve({
    port: settings.port,
    // The app's front door; Bun passes the server, which tells the peer of each request.
    fetch: app.fetch,
    // The same front door, reached through Bun's own router for the hottest read (GET one
    // config): Bun only picks the function, every request still goes through the front door and
    // Elysia's router, and every other method and path through `fetch`. It costs Bun less per
    // request than its `fetch` path under load (bench/README.md, "Elysia's own mechanisms").
    routes: { '/configs/:dcname': { GET: app.fetch } },
    maxRequestBodySize: runtimeBodyLimit(settings.maxBodyBytes),
    idleTimeout: IDLE_TIMEOUT_S,
  }),
)
logger.info(listeningFields(settings, server.port ?? settings.port, store.backend), 'listening')

// Without force, Bun's stop() lets requests in flight finish and resolves when they have.
const plan = service.shutdownPlan({ stop: () => server.stop(), forceStop: () => server.stop(true) })
exitOnSignals((signal) => shutDown(plan, signal), logger)
