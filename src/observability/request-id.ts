/**
 * `X-Request-Id`: a caller's id is kept when it is short and made of safe characters, so it
 * can travel into logs and other services unescaped; anything else is replaced by a new id in
 * a UUID's shape (id-source.ts).
 */
import { ids } from './id-source.ts'

export const REQUEST_ID_HEADER = 'x-request-id'

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/

export function requestIdFrom(header: string | null): string {
  return header !== null && SAFE_REQUEST_ID.test(header) ? header : ids.requestId()
}
