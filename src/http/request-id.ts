/**
 * `X-Request-Id`: a caller's id is kept when it is short and made of safe characters, so it
 * can travel into logs, history entries and other services unescaped; anything else is replaced
 * by a new id in a UUID's shape.
 *
 * The id is resolved once per request and kept here, by request, so that everything that names
 * the request (the access line and the response header of the observability layer, the history
 * entry a handler's write stores, the audit line) names it with the same id. Observability cannot
 * import the HTTP layer; the app hands it `of`. New ids come from `fresh`: the app passes the
 * cheap id source of observability (a prefix and a counter), as a fresh random UUID per request
 * was a noticeable part of a cached read's cost.
 */
export const REQUEST_ID_HEADER = 'x-request-id'

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/

export class RequestIds {
  readonly header = REQUEST_ID_HEADER
  private readonly resolved = new WeakMap<Request, string>()

  constructor(private readonly fresh: () => string = () => crypto.randomUUID()) {}

  /** The id of this request: the caller's when safe, else a new one, the same on every call. */
  readonly of = (request: Request): string => {
    let id = this.resolved.get(request)
    if (id === undefined) {
      const header = request.headers.get(REQUEST_ID_HEADER)
      id = header !== null && SAFE_REQUEST_ID.test(header) ? header : this.fresh()
      this.resolved.set(request, id)
    }
    return id
  }
}
