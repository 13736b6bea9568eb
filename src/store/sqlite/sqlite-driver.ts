/**
 * The seam between the SQLite store and the runtime: `bun:sqlite` on Bun, `node:sqlite` on
 * Deno. Both are synchronous and close enough that this small interface covers them.
 */
export type SqlValue = string | number | null

export interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number | bigint }
  get(...params: SqlValue[]): Record<string, unknown> | undefined | null
  all(...params: SqlValue[]): Record<string, unknown>[]
}

export interface SqliteDatabase {
  exec(sql: string): void
  prepare(sql: string): SqliteStatement
  close(): void
}

export type OpenSqlite = (path: string) => SqliteDatabase
