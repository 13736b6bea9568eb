/**
 * The check a SQLite file passes before the service starts on it. A file with damaged pages
 * opens and migrates fine, then fails some reads with 500s: `PRAGMA quick_check` reads every
 * page once (without the index cross-checks of integrity_check) and refuses such a file at
 * start-up instead. Its cost grows with the file (bench/README.md has the measurement).
 */
import type { OpenSqlite, SqliteDatabase } from './sqlite-driver.ts'

/** The file failed its check; the message is one line, fit for the start-up refusal. */
export class SqliteCorruptError extends Error {
  constructor(finding: string) {
    // SQLite heads its findings with the database's name (`*** in database main ***`).
    const line = finding
      .split('\n')
      .filter((part) => !part.startsWith('***') && part.trim() !== '')
      .join('; ')
      .slice(0, 200)
    super(`the file is damaged (PRAGMA quick_check: ${line}); restore it from a backup or move it away`)
    this.name = 'SqliteCorruptError'
  }
}

/** Throws SqliteCorruptError unless the file passes `PRAGMA quick_check`. */
export function checkIntegrity(db: SqliteDatabase): void {
  let finding: string
  try {
    // One finding is enough to refuse the file, and it keeps the line short.
    const [row] = db.prepare('PRAGMA quick_check(1)').all()
    finding = String(Object.values(row ?? {})[0] ?? 'no answer')
  } catch (error) {
    // A header or schema too damaged to check at all.
    finding = error instanceof Error ? error.message : String(error)
  }
  if (finding !== 'ok') throw new SqliteCorruptError(finding)
}

/** Opens the file and checks it (see checkIntegrity); a damaged one is closed again. */
export function openChecked(open: OpenSqlite, path: string): SqliteDatabase {
  const db = open(path)
  try {
    checkIntegrity(db)
  } catch (error) {
    db.close()
    throw error
  }
  return db
}
