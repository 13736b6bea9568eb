/**
 * The filters of /search evaluated in memory, for watch streams. They must agree with the
 * stores' SQL exactly: a client that lists with a filter and then watches with the same filter
 * has to see one consistent set. test/configs/filter-match.test.ts checks both side by side.
 */
import type { Filter } from './config-store.ts'
import { type Config, isObject } from './model.ts'

/** True when every filter matches (AND); no filters match everything. */
export function matchesFilters(config: Config, filters: readonly Filter[]): boolean {
  return filters.every((filter) => matchesFilter(config, filter))
}

/**
 * `dcname=value` compares the name. `metadata.a.b=value` matches a scalar leaf whose JSON text
 * equals the value, or a string leaf equal to it (so `true` matches true and "true", `5`
 * matches 5 and "5", `null` matches null). Objects, arrays and missing leaves never match.
 */
export function matchesFilter(config: Config, filter: Filter): boolean {
  if (filter.path.length === 1 && filter.path[0] === 'dcname') return config.dcname === filter.value
  let node: unknown = config
  for (const segment of filter.path) {
    // Own keys of plain objects only: a path never walks into arrays or up a prototype chain.
    if (!isObject(node) || !Object.hasOwn(node, segment)) return false
    node = node[segment]
  }
  if (typeof node === 'string') return node === filter.value
  if (node === null || typeof node === 'number' || typeof node === 'boolean') {
    return JSON.stringify(node) === filter.value
  }
  return false
}
