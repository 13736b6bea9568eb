import { StoreUnavailableError } from '../../configs/config-store.ts'

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
])

/**
 * Unreachable, shutting down, out of connections, too slow (statement timeout), or read-only
 * after a failover: the request may well succeed later, so it is a 503, not a 500.
 * SQLSTATE classes: 08 connection, 53 insufficient resources, 57 operator intervention,
 * 40 transaction rollback, 25006 read-only transaction.
 */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return false
  if (CONNECTION_ERRORS.has(code)) return true
  return /^[0-9A-Z]{5}$/.test(code) && (/^(08|53|57|40)/.test(code) || code === '25006')
}

export function unavailableOrRethrow(error: unknown): unknown {
  return isUnavailable(error) ? new StoreUnavailableError(error) : error
}
