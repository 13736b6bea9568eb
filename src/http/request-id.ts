/**
 * `X-Request-Id`: a caller's id is kept when it is short and made of safe characters, so it
 * can travel into logs, history entries and other services unescaped; anything else is replaced
 * by a new id in a UUID's shape.
 *
 * The id is resolved once per request, into its RequestContext (request-context.ts), so that
 * everything that names the request (the access line and the response header, the history
 * entry a handler's write stores, the audit line) names it with the same id. New ids come from
 * `fresh`: the app passes the cheap id source of observability (a prefix and a counter), as a
 * fresh random UUID per request was a noticeable part of a cached read's cost.
 */
export const REQUEST_ID_HEADER = 'x-request-id'

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/

/** The caller's id when it is safe, else a new one. */
export function resolveRequestId(headers: Headers, fresh: () => string): string {
  const header = headers.get(REQUEST_ID_HEADER)
  return header !== null && SAFE_REQUEST_ID.test(header) ? header : fresh()
}
