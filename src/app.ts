/**
 * createApp composes the service from its parts: the front door (front-door.ts) before the
 * router, and the routes behind it. It uses no runtime-specific API, so the Bun and Deno entry
 * points (and the tests, through app.handle) all serve the same app. How a request flows
 * through it is told in http/request-context.ts.
 */
import { Elysia } from 'elysia'
import type { AccessRules, Principal } from './configs/access.ts'
import { AuthorizedConfigs } from './configs/authorized-configs.ts'
import { AuthorizedConsumers } from './configs/authorized-consumers.ts'
import { AuthorizedSchemas } from './configs/authorized-schemas.ts'
import type { ConfigStore } from './configs/config-store.ts'
import { ConsumerReports } from './configs/consumer-reports.ts'
import { MemoryConsumerStore } from './configs/memory-consumer-store.ts'
import { AuthorizedRollouts, type RolloutsDeps } from './configs/rollouts/authorized-rollouts.ts'
import { type FrontDoor, frontDoor } from './front-door.ts'
import { type AnswerBodyKind, answerBody } from './http/answer-body.ts'
import { apiDocs, DOCS_ROUTES } from './http/api-docs.ts'
import { accessGate } from './http/auth.ts'
import type { AuditEntry } from './http/configs/audit.ts'
import { CONSUMER_CONTRACTS } from './http/configs/consumer-contracts.ts'
import { consumerRoutes } from './http/configs/consumer-routes.ts'
import { CONFIG_CONTRACTS } from './http/configs/contracts.ts'
import { configRoutes } from './http/configs/routes.ts'
import { CONSOLE_ROUTES, consoleRoutes } from './http/console/console-routes.ts'
import { type ErrorReporter, errorHandling } from './http/errors.ts'
import { HEALTH_CONTRACTS, healthRoutes, Readiness } from './http/health.ts'
import { noRoute } from './http/no-route.ts'
import { RequestContexts } from './http/request-context.ts'
import { REQUEST_ID_HEADER } from './http/request-id.ts'
import { ROLLOUT_CONTRACTS } from './http/rollouts/contracts.ts'
import { rolloutRoutes } from './http/rollouts/routes.ts'
import { OPEN, type RouteAccessTable, type RouteDeclaration, routeAccessTable } from './http/route-access.ts'
import { type RouteLike, routeMatcher } from './http/route-matcher.ts'
import { SCHEMA_CONTRACTS } from './http/schemas/contracts.ts'
import { SCHEMA_HISTORY_CONTRACTS } from './http/schemas/history-contracts.ts'
import { schemaRoutes } from './http/schemas/routes.ts'
import { WatchHub } from './http/watch/watch-hub.ts'
import {
  type HttpObservabilityDeps,
  httpObservability,
  METRICS_PATH,
  metricsRoute,
} from './observability/http-observability.ts'
import { ids } from './observability/id-source.ts'
import { actorRecorder } from './observability/tracing.ts'

interface AppDeps {
  store: ConfigStore
  /** Who may do what (src/open-access.ts); left out, everything is open to everyone (tests). */
  access?: { rules: AccessRules; authenticate: (token: string) => Promise<Principal> }
  maxBodyBytes: number
  reportError?: ErrorReporter
  /** Turned to not-ready by the shutdown sequence; a fresh, ready one when left out (tests). */
  readiness?: Readiness
  /** Told why a readiness ping of the store failed (at most once a second). */
  reportStoreDown?: (error: unknown) => void
  /** Watch streams; one with default settings on `store` when left out (tests). */
  watch?: WatchHub
  /**
   * Request metrics, access logs, traces and (unless `serveMetrics` is false: METRICS_PORT
   * serves them) GET /metrics; left out, the app is not observed.
   */
  observability?: Omit<HttpObservabilityDeps, 'requestIdHeader'> & { serveMetrics?: boolean }
  /** Writes one audit line per write attempt; left out, nothing is audited (tests). */
  audit?: (entry: AuditEntry) => void
  /** Rollouts' store, gates and driver; left out, the rollout routes answer 503 (tests). */
  rollouts?: Omit<RolloutsDeps, 'configs'>
  /** Consumer reports; left out, kept in this process's memory alone (tests). */
  consumers?: ConsumerReports
  /** How large JSON answers are handed to the runtime's server (http/answer-body.ts); bytes when left out. */
  answerBodyKind?: AnswerBodyKind
}

const OPEN_TO_EVERYONE: AccessRules = { protected: false, anonymousRead: true }

/** The app: its front door, and the routes behind it. */
export interface ServiceApp extends FrontDoor {
  /** Every route the router serves, with its hooks. */
  readonly routes: App['routes']
}

export function createApp(deps: AppDeps): ServiceApp {
  // One id per request, for the access line, the response header, the audit line and the history entry.
  const contexts = new RequestContexts(() => ids.requestId())
  const serveMetrics = deps.observability !== undefined && deps.observability.serveMetrics !== false
  const declared = routeAccessTable([
    ...CONFIG_CONTRACTS,
    ...CONSUMER_CONTRACTS,
    ...SCHEMA_CONTRACTS,
    ...SCHEMA_HISTORY_CONTRACTS,
    ...ROLLOUT_CONTRACTS,
    ...HEALTH_CONTRACTS,
    ...DOCS_ROUTES,
    ...CONSOLE_ROUTES,
    ...(serveMetrics ? [METRICS_ROUTE] : []),
  ])
  const api = routesOf(deps, contexts, declared, serveMetrics)
  for (const { method, path } of api.routes) {
    if (declared.of(method, path) === undefined) {
      throw new Error(`the route ${method} ${path} declares no access (see src/http/route-access.ts)`)
    }
  }
  const { observability } = deps
  const door = frontDoor({
    contexts,
    route: api.fetch,
    observe: observability && httpObservability({ ...observability, requestIdHeader: REQUEST_ID_HEADER }),
    audit: deps.audit,
    writeMethods: declared.writeMethods,
    onDecision: observability && ((decision) => observability.metrics.authDecision(decision)),
  })
  return { ...door, routes: api.routes }
}

const METRICS_ROUTE: RouteDeclaration = { method: 'GET', path: METRICS_PATH, access: OPEN }

/** The router and every route, behind the front door. */
function routesOf(deps: AppDeps, contexts: RequestContexts, declared: RouteAccessTable, serveMetrics: boolean) {
  // Route patterns are known only once every route is registered; the matcher reads them on
  // first use, for the 405 answers of paths that no route serves with the method asked for.
  let registered: () => RouteLike[] = () => []
  const matcher = routeMatcher(() => registered())
  const { access, observability, maxBodyBytes } = deps
  const watch = deps.watch ?? new WatchHub(deps.store)
  const configs = new AuthorizedConfigs(deps.store)
  const rollouts = deps.rollouts && new AuthorizedRollouts({ ...deps.rollouts, configs })
  const recordActor = observability ? actorRecorder(observability.tracing) : () => {}
  const gate = accessGate({
    rules: access?.rules ?? OPEN_TO_EVERYONE,
    authenticate: access?.authenticate ?? (async () => ({ actor: 'anonymous', role: 'admin' })),
    routes: declared,
    contexts,
    onPrincipal: (principal) => recordActor(principal.actor),
  })
  // By default Elysia looks for the path from the 12th character of the URL on, which assumes a
  // host of at least 4 characters: a Service named `api` (http://api/configs) would match no
  // route. The front door lets only `http://<host>/...` URLs in (http/request-target.ts), so the
  // path starts at the first '/' after the 7 characters of `http://`, whatever the host.
  const api = new Elysia({ normalize: false, handler: { standardHostname: false } })
    .use(noRoute(matcher, contexts))
    .use(errorHandling(deps.reportError ?? (() => {})))
    .use(gate)
    // Bodies are read by the routes that take one, after the gate (configs/routes.ts): null
    // stops Elysia's own parsers, which would read them before. (On Deno they would also try to
    // parse an empty DELETE body sent with a JSON content type.)
    .onParse({ as: 'global' }, () => null)
    .use(configRoutes({ configs, watch, gate, maxBodyBytes, answerBody: answerBody(deps.answerBodyKind) }))
    .use(
      consumerRoutes({
        consumers: new AuthorizedConsumers(deps.consumers ?? inMemoryConsumers(), deps.store),
        gate,
        maxBodyBytes,
      }),
    )
    .use(schemaRoutes({ schemas: new AuthorizedSchemas(deps.store.schemas), watch, gate, maxBodyBytes }))
    .use(rolloutRoutes({ rollouts, gate, maxBodyBytes, watch }))
    .use(
      healthRoutes({
        store: deps.store,
        readiness: deps.readiness ?? new Readiness(),
        onStoreDown: deps.reportStoreDown,
      }),
    )
    .use(
      apiDocs({
        contracts: [
          ...CONFIG_CONTRACTS,
          ...CONSUMER_CONTRACTS,
          ...SCHEMA_CONTRACTS,
          ...SCHEMA_HISTORY_CONTRACTS,
          ...ROLLOUT_CONTRACTS,
          ...HEALTH_CONTRACTS,
        ],
      }),
    )
    .use(consoleRoutes())
    .use(observability && serveMetrics ? metricsRoute(observability.metrics) : new Elysia())
  registered = () => api.routes
  return api
}

function inMemoryConsumers(): ConsumerReports {
  return new ConsumerReports(new MemoryConsumerStore(), { ttlMs: 90_000, flushMs: 1, maxPerConfig: 1000 })
}

/** The routes' type: typed clients (src/client/) are built from it, with no server code at run time. */
export type App = ReturnType<typeof routesOf>
