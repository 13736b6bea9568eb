/**
 * Which route patterns a path belongs to, for a request the router matched to none: the methods
 * a 405 names in `Allow`, and the pattern its metrics, access line and span are labelled with.
 * (A routed request is labelled with the route the router matched, from its context.) It is
 * given the path the router read, so that a path the router serves for some method is a 405,
 * never a 404.
 *
 * It matches as Elysia's router does (with `strictPath` off, its default): one trailing slash
 * is the same path (`/configs/` is `/configs`), two are not; a parameter is one segment; for a
 * given method a static pattern wins over one with parameters.
 */

export interface RouteLike {
  method: string
  path: string
}

export interface RouteMatcher {
  /** Methods served at a path (HEAD wherever GET is), or undefined when no route matches it. */
  allowedMethods(path: string): string[] | undefined
  /**
   * The pattern (`/configs/:dcname`) that serves this method at this path; for a method it does
   * not serve (a 405), the pattern the path matched; undefined when no route matches the path.
   */
  routeOf(method: string, path: string): string | undefined
}

interface CompiledPattern {
  pattern: string
  regexp: RegExp
  methods: Set<string>
}

/** Reads the routes on first use, once every route is registered. */
export function routeMatcher(routes: () => RouteLike[]): RouteMatcher {
  let compiled: CompiledPattern[] | undefined
  // Static patterns first, as the router prefers them.
  const patterns = () => {
    compiled ??= compile(routes())
    return compiled
  }
  return {
    allowedMethods(path) {
      const methods = new Set<string>()
      for (const entry of patterns()) if (entry.regexp.test(path)) for (const m of entry.methods) methods.add(m)
      return methods.size === 0 ? undefined : [...methods].sort()
    },
    routeOf(method, path) {
      let matched: string | undefined
      for (const entry of patterns()) {
        if (!entry.regexp.test(path)) continue
        if (entry.methods.has(method)) return entry.pattern
        matched ??= entry.pattern
      }
      return matched
    },
  }
}

function compile(routes: RouteLike[]): CompiledPattern[] {
  const byPattern = new Map<string, CompiledPattern>()
  for (const { method, path } of routes) {
    let entry = byPattern.get(path)
    if (!entry) {
      entry = { pattern: path, regexp: toRegExp(path), methods: new Set() }
      byPattern.set(path, entry)
    }
    const upper = method.toUpperCase()
    entry.methods.add(upper)
    // The router answers HEAD with the GET handler (without its body).
    if (upper === 'GET') entry.methods.add('HEAD')
  }
  return [...byPattern.values()].sort((a, b) => dynamicSegments(a.pattern) - dynamicSegments(b.pattern))
}

function dynamicSegments(pattern: string): number {
  return pattern.split('/').filter((segment) => segment.startsWith(':') || segment === '*').length
}

function toRegExp(pattern: string): RegExp {
  const source = pattern
    .replace(/\/$/, '')
    .split('/')
    .map((segment) =>
      segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/')
  return new RegExp(`^${source}/?$`)
}
