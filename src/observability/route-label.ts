/**
 * Bounded label values for HTTP metrics, spans and logs: the route pattern a path matched
 * (`/configs/:dcname`), never the raw path, and one shared value for everything unmatched, so
 * a scan of random URLs or methods cannot grow the label set. Which pattern a request matched is
 * the app's to say (the router, or for a 405 the app's route matcher).
 */
const UNMATCHED_ROUTE = 'unmatched'

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'])

export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'OTHER'
}

/** The label of a request: its route pattern, or one shared value when no pattern matches its path. */
export function routeLabel(route: string | undefined): string {
  return route ?? UNMATCHED_ROUTE
}
