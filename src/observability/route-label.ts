/**
 * Bounded label values for HTTP metrics, spans and logs: the route pattern a path matched
 * (`/configs/:dcname`), never the raw path, and one shared value for everything unmatched, so
 * a scan of random URLs or methods cannot grow the label set.
 */
const UNMATCHED_ROUTE = 'unmatched'

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'])

export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'OTHER'
}

export interface RoutePattern {
  path: string
}

/**
 * Matches paths against the app's route patterns. The patterns are read on first use, once
 * every route is registered; static patterns win over ones with parameters, as in the router.
 */
export function routeMatcher(patterns: () => RoutePattern[]): (path: string) => string {
  let compiled: { pattern: string; regexp: RegExp }[] | undefined
  const compile = () => {
    const unique = [...new Set(patterns().map((route) => route.path))]
    unique.sort((a, b) => dynamicSegments(a) - dynamicSegments(b))
    return unique.map((pattern) => ({ pattern, regexp: toRegExp(pattern) }))
  }
  return (path) => {
    compiled ??= compile()
    for (const { pattern, regexp } of compiled) if (regexp.test(path)) return pattern
    return UNMATCHED_ROUTE
  }
}

/** The path of a request URL without building a URL object (the hot path runs this per request). */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  return query === -1 ? url.slice(start) : url.slice(start, query)
}

function dynamicSegments(pattern: string): number {
  return pattern.split('/').filter((segment) => segment.startsWith(':') || segment === '*').length
}

function toRegExp(pattern: string): RegExp {
  const source = pattern
    .split('/')
    .map((segment) =>
      segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/')
  // The router also serves a pattern with a trailing slash.
  return new RegExp(`^${source}/?$`)
}
