import type { RouteTable } from './errors.ts'

/** Matches request paths against the app's route patterns (`/configs/:dcname`) for 405s. */
export function routeTable(routes: { method: string; path: string }[]): RouteTable {
  const patterns = new Map<string, { regexp: RegExp; methods: Set<string> }>()
  for (const { method, path } of routes) {
    let entry = patterns.get(path)
    if (!entry) {
      const source = path
        .split('/')
        .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : escapeRegExp(segment)))
        .join('/')
      entry = { regexp: new RegExp(`^${source}$`), methods: new Set() }
      patterns.set(path, entry)
    }
    entry.methods.add(method.toUpperCase())
  }
  return {
    allowedMethods(path) {
      const methods = new Set<string>()
      for (const entry of patterns.values()) {
        if (entry.regexp.test(path)) for (const m of entry.methods) methods.add(m)
      }
      if (methods.size === 0) return undefined
      if (methods.has('GET')) methods.add('HEAD')
      return [...methods].sort()
    },
  }
}

function escapeRegExp(segment: string): string {
  return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
