/**
 * `GET /configs?watch=true[&since=<revision>][&<filters>]`: what a watch asks for.
 * `Last-Event-ID` (sent by a reconnecting EventSource) overrides `since`, since it is the
 * newer of the two: the URL keeps the `since` of the first connection.
 */

import type { WatchQuery } from '../../configs/watch/watch-start.ts'
import { parseListQuery } from '../list-query.ts'
import { badRequest } from '../problem.ts'

export interface WatchRequest extends WatchQuery {
  /** The name prefix asked for (`prefix=`); narrowed by the caller's scope into `prefixes`. */
  prefix?: string
}

const WATCH_PARAMS = ['watch', 'since'] as const
const REVISION = /^\d{1,15}$/

/** True when the list request is a watch; refuses watch-only parameters on a plain list. */
export function wantsWatch(params: URLSearchParams): boolean {
  const value = params.get('watch')
  if (value === null || value === 'false' || value === '0') {
    if (params.has('since')) throw badRequest('since only applies to a watch: add watch=true')
    return false
  }
  if (value === 'true' || value === '1') return true
  throw badRequest(`watch must be true or false, got ${JSON.stringify(value.slice(0, 40))}`)
}

export function parseWatchRequest(params: URLSearchParams, headers: Headers): WatchRequest {
  const { filters, prefix } = parseListQuery(params, WATCH_PARAMS)
  if (params.has('limit') || params.has('cursor')) {
    throw badRequest('a watch does not page: leave out limit and cursor')
  }
  const since = watchSince(params, headers)
  return since === undefined ? { filters, prefix } : { since, filters, prefix }
}

/** Where a watch resumes: `Last-Event-ID` (a reconnecting EventSource's), else `since`, else undefined. */
export function watchSince(params: URLSearchParams, headers: Headers): number | undefined {
  const lastEventId = headers.get('last-event-id')
  const since = params.get('since')
  if (lastEventId !== null && lastEventId.trim() !== '') return revision(lastEventId, 'Last-Event-ID')
  if (since !== null) return revision(since, 'since')
  return undefined
}

function revision(value: string, name: string): number {
  const trimmed = value.trim()
  if (!REVISION.test(trimmed)) {
    throw badRequest(`${name} must be a revision (a whole number), got ${JSON.stringify(value.slice(0, 40))}`)
  }
  return Number(trimmed)
}
