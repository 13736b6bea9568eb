/**
 * The security headers of every answer, whoever made it (a handler, the 404 and 405, the gate's
 * 401 and 403, the front door's 400, a probe, a page or one of its files), set in one place: the
 * front door (src/front-door.ts), which every answer leaves through, so no route can forget them.
 *
 * - `X-Content-Type-Options: nosniff`: a browser takes each answer as the type it is sent as,
 *   so a JSON body or a config's text can never be run as a script or read as a page.
 * - `Content-Security-Policy`: an answer that is no page (JSON, problems, event streams,
 *   scripts, stylesheets) gets `default-src 'none'`, which lets nothing load from it if a
 *   browser renders it anyway. The two pages (the console and Swagger UI) set their own, built
 *   by `pagePolicy`: scripts, styles and everything else from this origin only, no inline
 *   script but the ones whose hashes the page names, no plugins, no `<base>`.
 * - Neither may be framed by another site (clickjacking): `frame-ancestors 'none'` in every
 *   policy, and `X-Frame-Options: DENY` for browsers that predate it.
 */
import { createHash } from 'node:crypto'

const CSP = 'content-security-policy'

/** The policy of every answer that is no page. */
export const API_POLICY = "default-src 'none'; frame-ancestors 'none'"

/**
 * The policy of a page served by this service: everything from its own origin, nothing inline
 * but the scripts named by hash (such as an import map, which cannot be a file of its own).
 * Images may also be `data:` URLs (icons drawn by stylesheets, the console's empty favicon).
 */
export function pagePolicy(inlineScripts: readonly string[] = []): string {
  const hashes = inlineScripts.map((script) => ` 'sha256-${createHash('sha256').update(script).digest('base64')}'`)
  return [
    "default-src 'self'",
    `script-src 'self'${hashes.join('')}`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/** Sets the headers on an answer; a page keeps the policy it set itself. */
export function withSecurityHeaders(response: Response): Response {
  try {
    setHeaders(response.headers)
    return response
  } catch {
    // Headers of some responses are immutable; a copy carries them instead.
    const copy = new Response(response.body, response)
    setHeaders(copy.headers)
    return copy
  }
}

function setHeaders(headers: Headers): void {
  headers.set('x-content-type-options', 'nosniff')
  headers.set('x-frame-options', 'DENY')
  if (!headers.has(CSP)) headers.set(CSP, API_POLICY)
}
