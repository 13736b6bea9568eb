/**
 * createApp composes the service from its parts. It uses no runtime-specific API, so the Bun
 * and Deno entry points (and the tests, through app.handle) all serve the same app.
 */
import { Elysia } from 'elysia'
import type { AccessRules, Principal } from './configs/access.ts'
import type { ConfigStore } from './configs/config-store.ts'
import { apiDocs } from './http/api-docs.ts'
import { type AccessGateDeps, accessGate, needsToken } from './http/auth.ts'
import { type AuditEntry, auditTrail } from './http/configs/audit.ts'
import { CONFIG_CONTRACTS } from './http/configs/contracts.ts'
import { configRoutes } from './http/configs/routes.ts'
import { consoleRoutes } from './http/console/console-routes.ts'
import { type ErrorReporter, errorHandling } from './http/errors.ts'
import { HEALTH_CONTRACTS, healthRoutes, Readiness } from './http/health.ts'
import { readJsonBody } from './http/json-body.ts'
import { RequestIds } from './http/request-id.ts'
import { type RouteLike, type RouteMatcher, routeMatcher } from './http/route-matcher.ts'
import { SCHEMA_CONTRACTS } from './http/schemas/contracts.ts'
import { schemaRoutes } from './http/schemas/routes.ts'
import { securityHeaders } from './http/security-headers.ts'
import { WatchHub } from './http/watch/watch-hub.ts'
import { type HttpObservabilityDeps, httpObservability } from './observability/http-observability.ts'
import { ids } from './observability/id-source.ts'
import { actorRecorder } from './observability/tracing.ts'

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'])

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
  /** Request metrics, access logs, traces and GET /metrics; left out, the app is not observed. */
  observability?: Omit<HttpObservabilityDeps, 'routeOf' | 'requestIds' | 'onTraceId'>
  /** Writes one audit line per write attempt; left out, nothing is audited (tests). */
  audit?: (entry: AuditEntry) => void
  /** The address of the peer that sent a request, as the runtime's server knows it. */
  peerAddress?: (request: Request) => string | undefined
}

const OPEN: AccessRules = { protected: false, anonymousRead: true }

export function createApp(deps: AppDeps) {
  // Route patterns are known only once every route is registered; the matcher reads them on
  // first use. It decides both the 404/405 answers and the route label of metrics and logs.
  let registered: () => RouteLike[] = () => []
  const routes = routeMatcher(() => registered())
  // The trace id the access line names, kept for the audit line of a write (the only reader).
  const traceIds = new WeakMap<Request, string>()
  // One id per request, for the access line, the response header, the audit line and the history entry.
  const requestIds = new RequestIds(() => ids.requestId())

  // By default Elysia looks for the path from the 12th character of the URL on, which assumes a
  // host of at least 4 characters: a Service named `api` (http://api/configs) would match no
  // route. Both runtimes hand over plain `http://` URLs (no TLS is served here), so the path
  // starts at the first '/' after the 7 characters of `http://`, whatever the Host header.
  const gate = accessGate(gateDeps(deps, routes))
  const app = new Elysia({ normalize: false, handler: { standardHostname: false } })
    .use(securityHeaders())
    .use(errorHandling(routes, deps.reportError ?? (() => {})))
    .use(
      deps.observability
        ? httpObservability({
            ...deps.observability,
            routeOf: routes.routeOf,
            requestIds,
            onTraceId: (request, traceId) => {
              if (needsToken(request.method)) traceIds.set(request, traceId)
            },
          })
        : new Elysia(),
    )
    // Before the gate: its request hook notes the peer of a write even when the gate refuses it.
    .use(
      deps.audit
        ? auditTrail({
            routes,
            actorOf: gate.auditActorOf,
            requestIdOf: requestIds.of,
            traceIdOf: (request) => traceIds.get(request),
            peerAddress: deps.peerAddress ?? (() => undefined),
            write: deps.audit,
          })
        : new Elysia(),
    )
    .use(gate)
    // Other methods carry no body we read; null (not undefined) stops Elysia's own parsers,
    // which on Deno would try to parse an empty DELETE body sent with a JSON content type.
    .onParse({ as: 'global' }, ({ request }) =>
      BODY_METHODS.has(request.method) ? readJsonBody(request, deps.maxBodyBytes) : null,
    )
    .use(configRoutes(deps.store, deps.watch ?? new WatchHub(deps.store), gate, requestIds.of))
    .use(schemaRoutes(deps.store, gate, requestIds.of))
    .use(
      healthRoutes({
        store: deps.store,
        readiness: deps.readiness ?? new Readiness(),
        onStoreDown: deps.reportStoreDown,
      }),
    )
    .use(apiDocs({ contracts: [...CONFIG_CONTRACTS, ...SCHEMA_CONTRACTS, ...HEALTH_CONTRACTS] }))
    .use(consoleRoutes())
  registered = () => app.routes
  return app
}

/** The app's type: typed clients (src/client/) are built from it, with no server code at run time. */
export type App = ReturnType<typeof createApp>

function gateDeps(deps: AppDeps, routes: RouteMatcher): AccessGateDeps {
  const { access, observability } = deps
  const recordActor = observability ? actorRecorder(observability.tracing) : () => {}
  return {
    rules: access?.rules ?? OPEN,
    authenticate: access?.authenticate ?? (async () => ({ actor: 'anonymous', role: 'admin' })),
    routes,
    onDecision: observability && ((result) => observability.metrics.authDecision(result)),
    onPrincipal: (principal) => recordActor(principal.actor),
  }
}
