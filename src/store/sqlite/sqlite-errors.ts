import { StoreUnavailableError } from '../../configs/config-store.ts'

/** Busy, locked, out of space or unreadable: the request may well succeed later, so a 503, not a 500. */
export function unavailableOrRethrow(error: unknown): unknown {
  const code = (error as { code?: string }).code ?? ''
  const message = error instanceof Error ? error.message : ''
  if (/SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY)/.test(`${code} ${message}`)) {
    return new StoreUnavailableError(error)
  }
  return error
}
