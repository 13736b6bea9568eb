/**
 * One request as the app knows it, made once and read by everything that names or judges it.
 *
 * How a request flows. The runtime hands it to the app's front door (src/front-door.ts), which
 * makes its RequestContext: request id, start time, method, the peer's address, and the path as
 * the router will read it (request-target.ts). A request whose URL has no usable host is
 * answered 400 there, before any routing. The rest is observed (observability gives the context
 * its trace id and, at the end, writes the access line, the metrics and the span from it) while
 * Elysia routes it. After routing, before the body is read, `requestContextPlugin` below hands
 * the context to Elysia's hooks with the route the router matched and its params; the access
 * gate (auth.ts) looks up what that route declares (route-access.ts), notes the action, the
 * config it names and the principal here, and refuses what the principal may not do. A route
 * with a body reads it next (configs/routes.ts), then Elysia validates, and the handler acts
 * through AuthorizedConfigs (configs/authorized-configs.ts), which authorizes the principal again,
 * and notes the revision it wrote here. A request no route serves gets its 404 or 405 from
 * no-route.ts instead. When the answer is known, the front door writes the audit line of a write
 * attempt (configs/audit.ts) from this same context, and observability its access line.
 *
 * Nothing else maps a Request to what is known of it: RequestContexts looks a request up once,
 * when the router hands it on (or answers 404/405), and the context then travels in Elysia's
 * context.
 */
import { Elysia } from 'elysia'
import type { Action, Principal } from '../configs/access.ts'
import { isObject } from '../configs/model.ts'
import { resolveRequestId } from './request-id.ts'
import { checkTarget } from './request-target.ts'

/**
 * Who sent a request: its address (Deno tells it to the handler), or the server that can tell
 * it while the request is open (Bun's `server.requestIP`).
 */
export type PeerSource = string | { requestIP(request: Request): { address: string } | null }

export class RequestContext {
  readonly start = performance.now()
  readonly method: string
  /** The path as the router reads it (no query); for a refused target, the URL without its query. */
  readonly path: string
  readonly requestId: string
  /** Why the request cannot be routed (it is answered 400 before routing); undefined for the rest. */
  readonly refusal: string | undefined
  /** The trace its access line and spans name; set by observability, undefined when not observed. */
  traceId: string | undefined
  /** The pattern the router matched (`/configs/:dcname`); undefined until routed, and when nothing matched. */
  route: string | undefined
  params: Readonly<Record<string, string | undefined>> | undefined
  /** What the route does, as it declares it; undefined for open routes and unrouted requests. */
  action: Action | undefined
  /** The config the request acts on: from the path, or the body of a create once it is read. */
  dcname: string | undefined
  /** The field of the body that names the config (a create's), as the route declares it. */
  dcnameField: string | undefined
  /** Who the gate found the caller to be; undefined until then, and when no principal is allowed. */
  principal: Principal | undefined
  /** The revision a write made, once it made one. */
  revision: number | undefined
  /** The write only runs and answers what it would store (`?dryRun=true`); set by its route. */
  dryRun = false
  /** A schema write with `?force=true`; set by its route. */
  force = false
  /** What a schema found in a write it let through (the Warning header's text), for the audit line. */
  warning: string | undefined
  /** The revision a rollback's body names (the state it restores), once the body is read. */
  rollbackOf: number | undefined
  /** The rollout a rollout route acted on (created, paused, approved...), for the audit line. */
  rollout: string | undefined
  readonly #queryStart: number

  constructor(
    readonly request: Request,
    private readonly peerSource: PeerSource | undefined,
    freshRequestId: () => string,
  ) {
    this.method = request.method
    this.requestId = resolveRequestId(request.headers, freshRequestId)
    const url = request.url
    const target = checkTarget(request, url, peerSource !== undefined)
    const start = typeof target === 'string' ? 0 : target
    // As the router cuts it: up to the first '?' after the path's first character.
    const query = url.indexOf('?', start + 1)
    this.#queryStart = query
    this.path = query === -1 ? url.slice(start) : url.slice(start, query)
    if (typeof target === 'string') this.refusal = target
  }

  /** The query string, without its '?' ('' when there is none). */
  get query(): string {
    return this.#queryStart === -1 ? '' : this.request.url.slice(this.#queryStart + 1)
  }

  /** Notes what the request's body says of it, once the body is read: a create's names its config. */
  noteBody(body: unknown): void {
    const field = this.dcnameField
    const named = field !== undefined && isObject(body) ? body[field] : undefined
    if (typeof named === 'string') this.dcname = named
    const revision = this.action === 'rollback' && isObject(body) ? body.revision : undefined
    if (Number.isSafeInteger(revision)) this.rollbackOf = revision as number
  }

  /** The peer's address, while the request is open (undefined in process). */
  get peer(): string | undefined {
    const source = this.peerSource
    return typeof source === 'string' ? source : source?.requestIP(this.request)?.address
  }
}

/** The contexts of the requests in Elysia's hands, by request: the front door enters them. */
export class RequestContexts {
  readonly #byRequest = new WeakMap<Request, RequestContext>()

  constructor(private readonly freshRequestId: () => string) {}

  /** The context of a request that just arrived; entered for routing unless it is refused. */
  open(request: Request, peer: PeerSource | undefined): RequestContext {
    const context = new RequestContext(request, peer, this.freshRequestId)
    if (context.refusal === undefined) this.#byRequest.set(request, context)
    return context
  }

  /** The context of a request the router matched to `route`; throws for one that bypassed the front door. */
  routed(request: Request, route: string, params: RequestContext['params']): RequestContext {
    const context = this.of(request)
    context.route = route
    context.params = params
    return context
  }

  of(request: Request): RequestContext {
    const context = this.#byRequest.get(request)
    if (context === undefined) throw new Error('a request reached the router without passing the front door')
    return context
  }
}

/**
 * Gives every route's hooks and handler the request's context, with the route the router
 * matched. Registered before the access gate, whose hook reads it; used by name, so it runs once.
 */
export function requestContextPlugin(contexts: RequestContexts) {
  return new Elysia({ name: 'request-context' }).derive({ as: 'global' }, ({ request, route, params }) => ({
    requestContext: contexts.routed(request, route, params),
  }))
}
