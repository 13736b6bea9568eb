/**
 * Query strings of a config's history (`limit`, `cursor`) and of a read at a revision
 * (`revision`). Revisions are positive whole numbers small enough to count exactly; anything
 * else is a 400 rather than a read of some other revision.
 */
import type { HistoryQuery } from '../configs/config-store.ts'
import { DEFAULT_LIMIT } from '../configs/list-limits.ts'
import { parseLimit } from './list-query.ts'
import { badRequest } from './problem.ts'

/** 1 up to 2^53 - 1 (16 digits at most), written plainly: no sign, exponent, fraction or leading 0. */
const REVISION = /^[1-9]\d{0,15}$/

/** A store revision from a query string or a body; `what` names it in the problem. */
export function parseRevision(value: string, what = 'revision'): number {
  const revision = REVISION.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(revision)) {
    throw badRequest(`${what} must be a positive whole number (a store revision), at most ${Number.MAX_SAFE_INTEGER}`)
  }
  return revision
}

/** `?revision=N` of GET /configs/{dcname}: undefined when not given. Other parameters stay ignored. */
export function revisionParameter(params: URLSearchParams): number | undefined {
  const values = params.getAll('revision')
  if (values.length === 0) return undefined
  if (values.length > 1) throw badRequest('the query parameter "revision" is given more than once')
  return parseRevision(values[0] as string)
}

export function parseHistoryQuery(params: URLSearchParams): HistoryQuery {
  const seen = new Set<string>()
  const query: HistoryQuery = { limit: DEFAULT_LIMIT }
  for (const [key, value] of params) {
    if (seen.has(key)) throw badRequest(`the query parameter ${JSON.stringify(key)} is given more than once`)
    seen.add(key)
    if (key === 'limit') query.limit = parseLimit(value)
    else if (key === 'cursor') query.before = decodeHistoryCursor(value)
    else throw badRequest(`unknown query parameter ${JSON.stringify(key)}: history takes limit and cursor`)
  }
  return query
}

/**
 * A history cursor is opaque to clients, as a list's is; inside, the revision of the last entry of
 * the previous page (the next page holds the entries below it), marked so that a list's cursor
 * is not taken for one.
 */
export function encodeHistoryCursor(revision: number): string {
  return Buffer.from(`history:${revision}`, 'utf8').toString('base64url')
}

function decodeHistoryCursor(value: string): number {
  const text = /^[A-Za-z0-9_-]{1,40}$/.test(value) ? Buffer.from(value, 'base64url').toString('utf8') : ''
  const match = /^history:([1-9]\d{0,15})$/.exec(text)
  const revision = match ? Number(match[1]) : Number.NaN
  if (!Number.isSafeInteger(revision)) throw badRequest('the cursor is not one this service handed out')
  return revision
}
