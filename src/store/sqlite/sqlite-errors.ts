import { StoreUnavailableError } from '../../configs/config-store.ts'

/**
 * SQLite's result codes by its messages: bun:sqlite names the code (`SQLITE_FULL`,
 * `SQLITE_IOERR_WRITE`), node:sqlite (Deno) gives only SQLite's message.
 */
const CODES_BY_MESSAGE: [RegExp, string][] = [
  [/database or disk is full/, 'SQLITE_FULL'],
  [/disk I\/O error/, 'SQLITE_IOERR'],
  [/attempt to write a readonly database/, 'SQLITE_READONLY'],
  [/database is locked/, 'SQLITE_BUSY'],
  [/database table is locked/, 'SQLITE_LOCKED'],
  [/unable to open database file/, 'SQLITE_CANTOPEN'],
  [/database disk image is malformed/, 'SQLITE_CORRUPT'],
]

/** The SQLite result code of a driver's error, e.g. `SQLITE_FULL`; undefined for other errors. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return code
  const message = error instanceof Error ? error.message : ''
  return CODES_BY_MESSAGE.find(([pattern]) => pattern.test(message))?.[1]
}

/** Busy, locked, out of space or unreadable: the request may well succeed later, so a 503, not a 500. */
export function unavailableOrRethrow(error: unknown): unknown {
  if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY)/.test(sqliteCode(error) ?? '')) {
    return new StoreUnavailableError(error)
  }
  return error
}

/** Why no write can be made durable, when `error` says so (it names the code, never data). */
export function durabilityProblem(error: unknown): string | undefined {
  const code = sqliteCode(error) ?? ''
  if (code.startsWith('SQLITE_FULL')) return `the disk is full (${code})`
  if (code.startsWith('SQLITE_IOERR')) return `the disk failed a read or write (${code})`
  if (code.startsWith('SQLITE_READONLY')) return `the database file cannot be written (${code})`
  return undefined
}
