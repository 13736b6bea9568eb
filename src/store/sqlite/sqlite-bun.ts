import { Database } from 'bun:sqlite'
import type { OpenSqlite, SqliteDatabase, SqliteStatement } from './sqlite-driver.ts'

export const openBunSqlite: OpenSqlite = (path) => {
  const db = new Database(path, { create: true, strict: true })
  const database: SqliteDatabase = {
    exec: (sql) => db.run(sql),
    prepare: (sql) => db.prepare(sql) as unknown as SqliteStatement,
    close: () => db.close(),
  }
  return database
}
