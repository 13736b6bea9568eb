/**
 * Bounded label values for HTTP metrics, spans and logs: the route pattern a path matched
 * (`/configs/:dcname`), never the raw path, and one shared value for everything unmatched, so
 * a scan of random URLs or methods cannot grow the label set. Which pattern a path matched is
 * the app's to say (the same matcher decides its 404s and 405s); it is handed in as a function.
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

/** The path of a request URL without building a URL object (the hot path runs this per request). */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  return query === -1 ? url.slice(start) : url.slice(start, query)
}
