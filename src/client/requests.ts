/**
 * What the client's parts share: the shapes of requests and answers, the paging helpers, and
 * `ConfigClientCore`, the part of `ConfigClient` that schemas.ts, consumers.ts and watch.ts use.
 * Its own module so that client.ts imports those parts and none of them imports client.ts.
 */
import type { treaty } from '@elysiajs/eden'
import type { App } from '../app.ts'
import type { Config } from '../configs/model.ts'

/** `metadata.a.b=value` and `dcname=value` conditions; all must match. */
export type Filters = Record<string, string>

export interface Page {
  configs: Config[]
  /** The store revision the page was read at (`X-Revision`): watch from it with `since`. */
  revision: number
  /** The cursor of the next page, when more remain (`Link: rel="next"`). */
  next?: string
}

export interface Paging {
  limit?: number
  cursor?: string
}

export interface ListOptions extends Paging {
  /** Only configs whose dcname starts with this (`prefix=`), e.g. `payments-`. */
  prefix?: string
}

export interface Answer {
  data: unknown
  error: { status: unknown; value: unknown } | null
  response?: Response
  status: number
}

/** What `ConfigClient` offers its parts (schemas, consumers, watch): implemented by it alone. */
export interface ConfigClientCore {
  /** The Eden Treaty client. */
  readonly api: ReturnType<typeof treaty<App>>
  readonly baseUrl: string
  list(filters?: Filters, options?: ListOptions): Promise<Page>
  listAll(filters?: Filters, options?: Pick<ListOptions, 'prefix'>): Promise<{ configs: Config[]; revision: number }>
  request(path: string, init: RequestInit & { headers?: Record<string, string> }): Promise<Response>
}

/** Base of the URLs handed to an app: its handler reads only the path. */
export const IN_PROCESS_URL = 'http://config-service.internal'

export function pagingQuery(paging: Paging): Record<string, string> {
  const query: Record<string, string> = {}
  if (paging.limit !== undefined) query.limit = String(paging.limit)
  if (paging.cursor !== undefined) query.cursor = paging.cursor
  return query
}

/** `ETag: "42"` -> 42. */
export function revisionOf(headers: Headers): number {
  const match = /^(?:W\/)?"(\d+)"$/.exec(headers.get('etag') ?? '')
  return match ? Number(match[1]) : 0
}

/** The `cursor` of `Link: <...?cursor=...>; rel="next"`. */
export function nextCursor(headers: Headers): string | undefined {
  const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(headers.get('link') ?? '')
  if (!match) return undefined
  return new URL(match[1] as string, IN_PROCESS_URL).searchParams.get('cursor') ?? undefined
}
