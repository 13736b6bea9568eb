/**
 * The one route matcher of the app: which route pattern a request path belongs to. It serves
 * both the 405 answer (the methods in `Allow`) and the `route` label of metrics, access lines and
 * spans, so that a path the router would serve for some method is never a 404 in one and a
 * route in the other.
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
  /**
   * The value of the parameter `name` (`dcname` of `/configs/:dcname`) in the first pattern
   * that has it and matches the path, decoded as the router decodes it; undefined when none
   * does. A segment that does not decode is returned as it is.
   */
  paramOf(path: string, name: string): string | undefined
}

interface CompiledPattern {
  pattern: string
  regexp: RegExp
  methods: Set<string>
}

/**
 * Patterns without parameters by their path (without a trailing slash), looked up directly; the
 * others, tested in order. Every request is matched (its route label), most of them against a
 * pattern with a parameter: testing each static pattern's expression first cost more than the rest.
 */
interface CompiledRoutes {
  all: CompiledPattern[]
  statics: Map<string, CompiledPattern[]>
  dynamics: CompiledPattern[]
}

/** Reads the routes on first use, once every route is registered. */
export function routeMatcher(routes: () => RouteLike[]): RouteMatcher {
  let compiled: CompiledRoutes | undefined
  const table = () => {
    compiled ??= compile(routes())
    return compiled
  }
  const patterns = () => table().all
  return {
    allowedMethods(path) {
      const methods = new Set<string>()
      for (const entry of patterns()) if (entry.regexp.test(path)) for (const m of entry.methods) methods.add(m)
      return methods.size === 0 ? undefined : [...methods].sort()
    },
    routeOf(method, path) {
      const { statics, dynamics } = table()
      let matched: string | undefined
      // Static patterns come first, as in the sorted list: for a method, static wins.
      for (const entry of statics.get(staticKey(path)) ?? NONE) {
        if (entry.methods.has(method)) return entry.pattern
        matched ??= entry.pattern
      }
      for (const entry of dynamics) {
        if (!entry.regexp.test(path)) continue
        if (entry.methods.has(method)) return entry.pattern
        matched ??= entry.pattern
      }
      return matched
    },
    paramOf(path, name) {
      for (const entry of patterns()) {
        const raw = entry.regexp.exec(path)?.groups?.[name]
        if (raw === undefined) continue
        try {
          return decodeURIComponent(raw)
        } catch {
          return raw
        }
      }
      return undefined
    },
  }
}

const NONE: CompiledPattern[] = []

/** One trailing slash is the same path (the expressions' `/?$`). */
function staticKey(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path
}

function compile(routes: RouteLike[]): CompiledRoutes {
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
  const all = [...byPattern.values()].sort((a, b) => dynamicSegments(a.pattern) - dynamicSegments(b.pattern))
  const statics = new Map<string, CompiledPattern[]>()
  const dynamics: CompiledPattern[] = []
  for (const entry of all) {
    if (dynamicSegments(entry.pattern) > 0) {
      dynamics.push(entry)
      continue
    }
    const key = staticKey(entry.pattern)
    statics.set(key, [...(statics.get(key) ?? []), entry])
  }
  return { all, statics, dynamics }
}

function dynamicSegments(pattern: string): number {
  return pattern.split('/').filter((segment) => segment.startsWith(':') || segment === '*').length
}

function toRegExp(pattern: string): RegExp {
  const source = pattern
    .replace(/\/$/, '')
    .split('/')
    .map((segment) =>
      segment.startsWith(':')
        ? `(?<${segment.slice(1)}>[^/]+)`
        : segment === '*'
          ? '.*'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/')
  return new RegExp(`^${source}/?$`)
}

/** The path of a request URL without building a URL object (the gate runs this per request). */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  return query === -1 ? url.slice(start) : url.slice(start, query)
}
