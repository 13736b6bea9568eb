/**
 * The answer to a request that no route serves: 405 with `Allow` when routes serve its path
 * with other methods, else 404. The route matcher is given the path the router read (the
 * request's context), and a 405 is labelled with the pattern its path matched.
 */
import { Elysia } from 'elysia'
import { problem, problemResponse } from './problem.ts'
import type { RequestContexts } from './request-context.ts'
import type { RouteMatcher } from './route-matcher.ts'

export function noRoute(routes: RouteMatcher, contexts: RequestContexts) {
  return new Elysia({ name: 'no-route' }).onError({ as: 'global' }, ({ code, request }) => {
    if (code !== 'NOT_FOUND') return undefined
    const context = contexts.of(request)
    const { method, path } = context
    const allowed = routes.allowedMethods(path)
    const response =
      allowed && !allowed.includes(method)
        ? problemResponse(problem(405, 'method-not-allowed', `${method} is not allowed on ${path}`), {
            allow: allowed.join(', '),
          })
        : problemResponse(problem(404, 'no-route', `no route for ${method} ${path}`))
    if (response.status === 405) context.route = routes.routeOf(method, path)
    return response
  })
}
