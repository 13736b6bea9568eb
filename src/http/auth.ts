/**
 * The access gate: once the router has matched a request's route, and before its body is read,
 * it looks up what that route declares (route-access.ts). Open routes (probes, metrics, docs,
 * the console's page) pass untouched. For the rest it finds the principal, from
 * `Authorization: Bearer <token>` only (never a query string), notes it in the request's
 * context with the route's action and the config its path names, and refuses at once what the
 * principal may not do: a write without a role that writes, a read without a token when
 * anonymous reads are off, a config outside the principal's prefixes. A route that declares
 * nothing is refused. A request no route matched (404, 405) needs no decision.
 *
 * It reads the route the router matched, never the URL: what the gate judges is what the
 * handler serves. The handlers authorize again through AuthorizedConfigs, where the dcname of a
 * create (in its body) is checked too.
 */
import { Elysia } from 'elysia'
import {
  type AccessRules,
  type Action,
  anonymousPrincipal,
  authorize,
  ForbiddenError,
  type Principal,
} from '../configs/access.ts'
import { type RequestContext, type RequestContexts, requestContextPlugin } from './request-context.ts'
import type { RouteAccessTable } from './route-access.ts'

export interface AccessGateDeps {
  rules: AccessRules
  /** Who presents a token; throws the errors of configs/access.ts. Unused while unprotected. */
  authenticate: (token: string) => Promise<Principal>
  /** What each route declares. */
  routes: Pick<RouteAccessTable, 'of'>
  contexts: RequestContexts
  /** The principal a request acts as (its span records the actor). */
  onPrincipal?: (principal: Principal) => void
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/** The bearer token of a request, if it has one; other schemes (Basic) count as none. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization')
  return header === null ? undefined : BEARER.exec(header)?.[1]
}

export function accessGate(deps: AccessGateDeps) {
  const { rules, onPrincipal = () => {} } = deps
  const anonymous = anonymousPrincipal(rules)

  const admit = (context: RequestContext, action: Action, principal: Principal | undefined): void => {
    context.principal = principal
    if (principal) onPrincipal(principal)
    authorize(principal, action, context.dcname)
  }

  /** Nothing for an open route or one decided at once; a promise while a token is checked. */
  const check = (context: RequestContext, route: string): Promise<void> | undefined => {
    const access = deps.routes.of(context.method, route)
    if (access === undefined) throw new ForbiddenError(`no access rule is declared for the route ${route}`)
    if ('open' in access) return undefined
    const { action, dcname } = access
    context.action = action
    if (dcname !== undefined) {
      if ('param' in dcname) context.dcname = context.params?.[dcname.param]
      else context.dcnameField = dcname.bodyField
    }
    // Unprotected, a token (a client set up for another instance) is ignored: all is open anyway.
    const token = rules.protected ? bearerToken(context.request) : undefined
    if (token === undefined) {
      admit(context, action, anonymous)
      return undefined
    }
    return deps.authenticate(token).then((principal) => admit(context, action, principal))
  }

  // Elysia awaits a hook whose source looks as if it could return a promise (the first), which
  // every request then pays for; unprotected, no token is ever authenticated, and the second,
  // which can only return nothing, is called without.
  type Routed = { requestContext: RequestContext; route: string }
  const checkWithTokens = ({ requestContext, route }: Routed) => check(requestContext, route)
  function checkOpen({ requestContext, route }: Routed): void {
    check(requestContext, route)
  }

  return new Elysia({ name: 'access-gate' })
    .use(requestContextPlugin(deps.contexts))
    .onTransform({ as: 'global' }, rules.protected ? checkWithTokens : checkOpen)
}

export type AccessGate = ReturnType<typeof accessGate>
