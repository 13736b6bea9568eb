/**
 * `X-Request-Id`: a caller's id is kept when it is short and made of safe characters, so it
 * can travel into logs, history entries and other services unescaped; anything else is replaced
 * by a new UUID.
 *
 * The id is resolved once per request and kept here, by request, so that everything that names
 * the request (the access line and the response header of the observability layer, the history
 * entry a handler's write stores) names it with the same id. Observability cannot import the HTTP
 * layer; the app hands it `requestIdOf`.
 */
export const REQUEST_ID_HEADER = 'x-request-id'

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/

export function requestIdFrom(header: string | null): string {
  return header !== null && SAFE_REQUEST_ID.test(header) ? header : crypto.randomUUID()
}

const resolved = new WeakMap<Request, string>()

/** The id of this request: the caller's when safe, else a new UUID, the same on every call. */
export function requestIdOf(request: Request): string {
  let id = resolved.get(request)
  if (id === undefined) {
    id = requestIdFrom(request.headers.get(REQUEST_ID_HEADER))
    resolved.set(request, id)
  }
  return id
}
