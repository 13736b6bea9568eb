/**
 * What each route declares about access, next to its contract: open to everyone, or one action
 * of the access policy (configs/access.ts) and where the config it acts on is named. The access
 * gate looks the declaration up by the route the router matched; the API docs say from it which
 * operations need a token; the audit trail names the action. A route that declares nothing is
 * refused by the gate, and createApp refuses to start with one.
 */
import { type Action, isWriteAction } from '../configs/access.ts'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** Where the config an action is on is named: a path parameter, or (a create) a field of the JSON body. */
export type DcnameSource = { readonly param: string } | { readonly bodyField: string }

export type RouteAccess =
  /** Probes for the kubelet, metrics for Prometheus, docs and the console's page for people. */
  { readonly open: true } | { readonly action: Action; readonly dcname?: DcnameSource }

export const OPEN: RouteAccess = { open: true }

/** A route and what it declares. */
export interface RouteDeclaration {
  method: HttpMethod
  /** Elysia's pattern: `/configs/:dcname`. */
  path: string
  access: RouteAccess
}

export interface RouteAccessTable {
  /** The declaration of the route that serves `method` at the pattern `route` (HEAD is GET's). */
  of(method: string, route: string): RouteAccess | undefined
  /** Methods that some route declares a write for: a request refused before routing with one is a write attempt. */
  writeMethods: ReadonlySet<string>
}

export function routeAccessTable(declarations: readonly RouteDeclaration[]): RouteAccessTable {
  // By pattern, then method: looked up per request, with strings the router and the runtime hold.
  const byRoute = new Map<string, Map<string, RouteAccess>>()
  const writeMethods = new Set<string>()
  for (const { method, path, access } of declarations) {
    const methods = byRoute.get(path) ?? new Map<string, RouteAccess>()
    if (methods.has(method)) throw new Error(`the route ${method} ${path} is declared twice`)
    byRoute.set(path, methods.set(method, access))
    if (writes(access)) writeMethods.add(method)
  }
  return {
    of: (method, route) => byRoute.get(route)?.get(method === 'HEAD' ? 'GET' : method),
    writeMethods,
  }
}

/** Whether a route's action writes. */
export function writes(access: RouteAccess): boolean {
  return 'action' in access && isWriteAction(access.action)
}
