/**
 * The access gate: every request but the probes, the API docs and /metrics is authenticated
 * once, before its body is read, from `Authorization: Bearer <token>` only (never a query
 * string), and refused at once when what it does needs more: a write needs a principal that may
 * write, a read needs a token when anonymous reads are off, and a route with a `:dcname` needs
 * that config inside the principal's prefixes. The principal is then in the handlers' context
 * (`access`), with what a route needs for the finer checks: authorize an action, filter a list.
 */
import { Elysia } from 'elysia'
import {
  type AccessKind,
  type AccessRules,
  type Action,
  actorOf,
  anonymousPrincipal,
  authorize,
  covers,
  ForbiddenError,
  type Principal,
  UNKNOWN_ACTOR,
  UnauthenticatedError,
} from '../configs/access.ts'
import { pathOf, type RouteMatcher } from './route-matcher.ts'

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Whether a request with this method writes; the API docs say the same. */
export function needsToken(method: string): boolean {
  return WRITE_METHODS.has(method)
}

export type AuthDecision = 'allowed' | 'unauthenticated' | 'forbidden'

export interface AccessGateDeps {
  rules: AccessRules
  /** Who presents a token; throws the errors of configs/access.ts. Unused while unprotected. */
  authenticate: (token: string) => Promise<Principal>
  /** The app's one route matcher: it finds the `:dcname` a request names. */
  routes: Pick<RouteMatcher, 'paramOf'>
  onDecision?: (decision: AuthDecision) => void
  /** The principal a request acts as (its span records the actor). */
  onPrincipal?: (principal: Principal) => void
}

/** What a handler knows of its caller. */
export interface RequestAccess {
  principal: Principal | undefined
  /** The actor for history and audit lines. */
  actor: string
  /** Throws ForbiddenError (403) or UnauthenticatedError (401) unless the caller may. */
  authorize(action: Action, dcname?: string): void
  /** Whether a config belongs in this caller's lists, searches, watches and history. */
  visible(dcname: string): boolean
  /** The same as dcname prefixes, for a store query (undefined: every config; empty: none). */
  prefixes: readonly string[] | undefined
}

/**
 * Always open: probes must work for the kubelet, docs and the console's page for people (the
 * console's API calls carry the token it asks for; `/` only sends them on to it), metrics for
 * Prometheus.
 */
export function isOpenPath(path: string): boolean {
  return (
    path === '/' ||
    path === '/healthz' ||
    path === '/readyz' ||
    path === '/metrics' ||
    path === '/swagger' ||
    path.startsWith('/swagger/') ||
    path === '/ui' ||
    path.startsWith('/ui/')
  )
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/** The bearer token of a request, if it has one; other schemes (Basic) count as none. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization')
  return header === null ? undefined : BEARER.exec(header)?.[1]
}

export function accessGate(deps: AccessGateDeps) {
  const { rules, onDecision = () => {}, onPrincipal = () => {} } = deps
  const anonymous = anonymousPrincipal(rules)
  const principals = new WeakMap<Request, Principal | undefined>()

  const decide = (request: Request, path: string, principal: Principal | undefined) => {
    principals.set(request, principal)
    if (principal) onPrincipal(principal)
    const kind: AccessKind = needsToken(request.method) ? 'write' : 'read'
    // Only a principal limited to prefixes needs the name: the route match is skipped for the rest.
    const dcname = principal?.prefixes === undefined ? undefined : deps.routes.paramOf(path, 'dcname')
    authorize(principal, kind, dcname)
    onDecision('allowed')
  }

  const counted = (error: unknown): never => {
    if (error instanceof UnauthenticatedError) onDecision('unauthenticated')
    else if (error instanceof ForbiddenError) onDecision('forbidden')
    throw error
  }

  const gate = (request: Request): Promise<void> | undefined => {
    const path = pathOf(request.url)
    if (isOpenPath(path)) return undefined
    // Unprotected, a token (a client set up for another instance) is ignored: all is open anyway.
    const token = rules.protected ? bearerToken(request) : undefined
    if (token === undefined) {
      try {
        decide(request, path, anonymous)
      } catch (error) {
        counted(error)
      }
      return undefined
    }
    return deps
      .authenticate(token)
      .then((principal) => decide(request, path, principal))
      .catch(counted)
  }

  // Elysia awaits a request hook whose source looks as if it could return a promise (the one
  // above), which every request then pays for; unprotected, no token is ever authenticated, and
  // this one, which can only return nothing, is called without.
  const openGate = ({ request }: { request: Request }): void => {
    gate(request)
  }

  const accessOf = (request: Request): RequestAccess => new GrantedAccess(principals.get(request), counted)

  /**
   * Who a request acted as, for its audit line, also when the gate refused it: the principal's
   * actor once one was resolved (a 403 has one), `unknown` for a token that resolved none (the
   * token itself is never named), `anonymous` without a token.
   */
  const auditActorOf = (request: Request): string => {
    if (principals.has(request)) return actorOf(principals.get(request))
    return rules.protected && bearerToken(request) !== undefined ? UNKNOWN_ACTOR : actorOf(undefined)
  }

  const plugin = new Elysia({ name: 'access-gate' })
    .onRequest(rules.protected ? ({ request }) => gate(request) : openGate)
    .derive({ as: 'global' }, ({ request }) => ({ access: accessOf(request) }))
  return Object.assign(plugin, { auditActorOf })
}

/** A request's access, made per request: its methods live on the prototype, not in fresh closures. */
class GrantedAccess implements RequestAccess {
  readonly actor: string
  readonly prefixes: readonly string[] | undefined

  constructor(
    readonly principal: Principal | undefined,
    private readonly counted: (error: unknown) => never,
  ) {
    this.actor = actorOf(principal)
    this.prefixes = principal ? principal.prefixes : []
  }

  authorize(action: Action, dcname?: string): void {
    try {
      authorize(this.principal, action, dcname)
    } catch (error) {
      this.counted(error)
    }
  }

  visible(dcname: string): boolean {
    return this.principal !== undefined && covers(this.principal, dcname)
  }
}
