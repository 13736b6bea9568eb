/**
 * Query strings of List and Search: filters (`metadata.a.b=value`, `dcname=value`), a name
 * prefix (`prefix`), paging (`limit`, `cursor`). Anything else is refused rather than silently
 * ignored.
 */

import type { Filter, ListQuery } from '../configs/config-store.ts'
import { MAX_FILTERS, parseFilterKey } from '../configs/filter-key.ts'
import { DEFAULT_LIMIT, MAX_LIMIT } from '../configs/list-limits.ts'
import { DCNAME_PREFIX_RULE, isDcname, isDcnamePrefix } from '../configs/model.ts'
import { badRequest } from './problem.ts'

/**
 * A list query as asked: `prefix` is the name prefix the caller asked for, which the handler
 * narrows to the caller's access scope (narrowPrefixes) before it becomes the store's `prefixes`.
 */
export interface RequestedListQuery extends Omit<ListQuery, 'prefixes'> {
  prefix?: string
}

/** `watch` and `since` belong to the watch API; the list parser leaves them to it. */
export function parseListQuery(params: URLSearchParams, ignore: readonly string[] = []): RequestedListQuery {
  const seen = new Set<string>()
  const filters: Filter[] = []
  let limit = DEFAULT_LIMIT
  let after: string | undefined
  let prefix: string | undefined
  for (const [key, value] of params) {
    if (seen.has(key)) throw badRequest(`the query parameter ${JSON.stringify(key)} is given more than once`)
    seen.add(key)
    if (ignore.includes(key)) continue
    if (key === 'limit') limit = parseLimit(value)
    else if (key === 'cursor') after = decodeCursor(value)
    else if (key === 'prefix') prefix = parsePrefix(value)
    else filters.push(parseFilter(key, value))
  }
  if (filters.length > MAX_FILTERS) throw badRequest(`at most ${MAX_FILTERS} filters are allowed`)
  return prefix === undefined ? { filters, limit, after } : { filters, limit, after, prefix }
}

/** `prefix`: the start of a dcname. */
export function parsePrefix(value: string): string {
  if (!isDcnamePrefix(value)) {
    throw badRequest(
      `the query parameter "prefix" must be ${DCNAME_PREFIX_RULE}, got ${JSON.stringify(value.slice(0, 40))}`,
    )
  }
  return value
}

/** `limit` of a page (lists, searches, history). */
export function parseLimit(value: string): number {
  const limit = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw badRequest(`limit must be a whole number from 1 to ${MAX_LIMIT}`)
  return limit
}

function parseFilter(key: string, value: string): Filter {
  const parsed = parseFilterKey(key)
  if ('path' in parsed) return { path: parsed.path, value }
  if (parsed.problem === 'unknown') {
    throw badRequest(
      `unknown query parameter ${JSON.stringify(key)}: use limit, cursor, prefix, dcname or metadata.<path> filters`,
    )
  }
  throw badRequest(`the filter ${JSON.stringify(key)} is not a path of letters, digits, "-" and "_" segments`)
}

/** Cursors are opaque to clients; inside, the last dcname of the previous page. */
export function encodeCursor(dcname: string): string {
  return Buffer.from(dcname, 'utf8').toString('base64url')
}

function decodeCursor(value: string): string {
  const dcname = /^[A-Za-z0-9_-]{1,400}$/.test(value) ? Buffer.from(value, 'base64url').toString('utf8') : ''
  if (!isDcname(dcname)) throw badRequest('the cursor is not one this service handed out')
  return dcname
}
