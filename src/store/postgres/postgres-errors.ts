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

/**
 * The connection is gone: the server ended the session (a FATAL error: terminated, shut down)
 * or the socket closed. Nothing more may be sent on it.
 */
export function isConnectionLost(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown }
  return severity === 'FATAL' || severity === 'PANIC' || (typeof code === 'string' && CONNECTION_ERRORS.has(code))
}

/** 25P02: a statement sent after one that failed in the same transaction; never the cause. */
export function isAbortedTransaction(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '25P02'
}

export function unavailableOrRethrow(error: unknown): unknown {
  return isUnavailable(error) ? new StoreUnavailableError(error) : error
}

/**
 * An error's message fit for a log line or the start-up failure line. Driver and server
 * messages name hosts and users, not passwords; blanking the URL's password anyway keeps it
 * so should one ever quote the URL.
 */
export function withoutPassword(error: unknown, url: string): string {
  const code = (error as { code?: unknown } | null)?.code
  let message = error instanceof Error && error.message !== '' ? error.message : String(code ?? error)
  for (const secret of passwordsOf(url)) message = message.replaceAll(secret, '***')
  return message
}

function passwordsOf(url: string): string[] {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return []
  }
  const candidates = [parsed.password, parsed.searchParams.get('password') ?? '']
  for (const encoded of [...candidates]) {
    try {
      candidates.push(decodeURIComponent(encoded))
    } catch {
      // Not valid percent-encoding: the encoded form is blanked all the same.
    }
  }
  return [...new Set(candidates.filter((secret) => secret !== ''))]
}
