/**
 * Which requests the app can route at all. The router reads a request's path from its URL as
 * text: from the first '/' after `http://` (app.ts) to the '?'. That is only the path when the
 * URL is absolute and its authority is a plain host: Bun hands over a bare path (`/a/b`) for a
 * request without a Host header (HTTP/1.0) or with an empty or odd one (`x?`, `"`, `{`), and
 * Deno puts whatever Host it got into the URL (`Host: x/y` makes `http://x/y/a/b`). Such a
 * request is answered 400 before anything reads its path, on every runtime alike.
 *
 * A usable host is RFC 3986's: a reg-name (IPv4 addresses are reg-names too) or an IPv6 literal
 * in brackets, with an optional port of at most 65535.
 */

const SCHEME = 'http://'

/** reg-name: unreserved, percent-encoded and sub-delims characters, at least one. */
const REG_NAME = String.raw`(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+`
const IPV6_LITERAL = String.raw`\[[0-9A-Fa-f:.]{2,45}\]`
const HOST = new RegExp(`^(?:${REG_NAME}|${IPV6_LITERAL})(?::([0-9]{0,5}))?$`)

/** Where the path of a usable request URL starts (a number), or why the request cannot be routed. */
export type TargetCheck = number | string

/**
 * `url`: the request's URL, as read once. `fromNetwork`: the request came over a connection, so
 * its Host header is the client's own word and must be there (an in-process Request built from
 * a URL has none).
 */
export function checkTarget(request: Request, url: string, fromNetwork: boolean): TargetCheck {
  if (!url.startsWith(SCHEME)) return 'the request target is not an absolute http URL with a host'
  const pathStart = url.indexOf('/', SCHEME.length)
  const urlHost = pathStart === -1 ? '' : url.slice(SCHEME.length, pathStart)
  if (pathStart === -1 || !usable(urlHost)) return 'the request has no usable Host'
  if (fromNetwork) {
    const host = request.headers.get('host')
    // The runtime copied a header it found usable into the URL (the usual case): no second look.
    if (host === null || (host !== urlHost && !isUsableHost(host))) return 'the request has no usable Host'
  }
  return pathStart
}

/**
 * The host of the last request found usable: a service is called by a few names, most requests
 * by the same one, and each would otherwise be matched against HOST again (bench/README.md).
 */
let lastUsable = ''

function usable(host: string): boolean {
  if (host === lastUsable) return true
  if (!isUsableHost(host)) return false
  lastUsable = host
  return true
}

/** A host of RFC 3986 with an optional port (`example.org`, `10.0.0.1:4999`, `[::1]:80`). */
export function isUsableHost(value: string): boolean {
  const match = HOST.exec(value)
  return match !== null && (match[1] === undefined || match[1] === '' || Number(match[1]) <= 65_535)
}
