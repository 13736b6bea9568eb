import { createHash, timingSafeEqual } from 'node:crypto'
import { ProblemError } from './problem.ts'

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Whether a request with this method needs the token (when one is configured); the API docs say the same. */
export function needsToken(method: string): boolean {
  return WRITE_METHODS.has(method)
}

/**
 * Writes need `Authorization: Bearer <token>` when a token is configured; reads stay open.
 * Both sides are hashed first so the comparison takes the same time whatever the length.
 */
export function bearerGuard(token: string | undefined): (request: Request) => void {
  if (token === undefined) return () => {}
  const expected = digest(token)
  return (request) => {
    if (!needsToken(request.method)) return
    const header = request.headers.get('authorization')
    const match = header === null ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
    const supplied = match?.[1]
    if (supplied !== undefined && timingSafeEqual(digest(supplied), expected)) return
    const challenge =
      supplied === undefined ? 'Bearer realm="config-service"' : 'Bearer realm="config-service", error="invalid_token"'
    throw new ProblemError(
      401,
      'unauthorized',
      supplied === undefined ? 'this write needs an Authorization: Bearer token' : 'the bearer token is not valid',
      undefined,
      { 'www-authenticate': challenge },
    )
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
