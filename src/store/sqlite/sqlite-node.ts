import { DatabaseSync } from 'node:sqlite'
import type { OpenSqlite, SqliteStatement } from './sqlite-driver.ts'

/** `node:sqlite`, used when the service runs on Deno. */
export const openNodeSqlite: OpenSqlite = (path) => {
  const db = new DatabaseSync(path)
  return {
    exec: (sql) => db.exec(sql),
    prepare: (sql) => db.prepare(sql) as unknown as SqliteStatement,
    close: () => db.close(),
  }
}
