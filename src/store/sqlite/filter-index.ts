/**
 * The filter index of the SQLite store: the `leaves` table holds every scalar leaf below
 * `metadata` as a filter compares it, so a search reads only the configs that match instead of
 * parsing every body. Writes keep it up to date (`update`); a migration builds it (`rebuild`).
 */
import { type Filter, type ListQuery, prefixRange } from '../../configs/config-store.ts'
import { type Leaf, leavesOf } from '../../configs/filter-leaves.ts'
import type { Config } from '../../configs/model.ts'
import type { SqliteDatabase, SqliteStatement, SqlValue } from './sqlite-driver.ts'

export class FilterIndex {
  private readonly removeLeaf: SqliteStatement
  private readonly addLeaf: SqliteStatement
  private readonly listStatements = new Map<string, SqliteStatement>()

  constructor(private readonly db: SqliteDatabase) {
    this.removeLeaf = db.prepare('DELETE FROM leaves WHERE path = ? AND value = ? AND dcname = ?')
    this.addLeaf = db.prepare('INSERT OR IGNORE INTO leaves (path, value, dcname) VALUES (?, ?, ?)')
  }

  /**
   * From the leaves of `before` (the stored config a write replaces) to those of `after` (none
   * on delete). Touches only the leaves that changed: a PUT that keeps a field keeps its entry.
   */
  update(dcname: string, before: Config | undefined, after: Config | undefined): void {
    const key = ([path, value]: Leaf) => `${path}\u0000${value}`
    const old = before === undefined ? [] : leavesOf(before)
    const next = after === undefined ? [] : leavesOf(after)
    const kept = new Set(next.map(key))
    const had = new Set(old.map(key))
    for (const leaf of old) if (!kept.has(key(leaf))) this.removeLeaf.run(leaf[0], leaf[1], dcname)
    for (const leaf of next) if (!had.has(key(leaf))) this.addLeaf.run(leaf[0], leaf[1], dcname)
  }

  /** The prepared statement of a list query, and its parameters. */
  listStatement(query: ListQuery): { statement: SqliteStatement; params: SqlValue[] } {
    const { sql, params } = listSql(query)
    let statement = this.listStatements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      // Filters come in few shapes; keep the cache bounded in case a client varies them.
      if (this.listStatements.size < 256) this.listStatements.set(sql, statement)
    }
    return { statement, params }
  }

  /** Indexes every stored config anew; runs inside the caller's transaction. */
  rebuild(): void {
    this.db.exec('DELETE FROM leaves')
    const rows = this.db.prepare('SELECT dcname, body FROM configs').all() as { dcname: string; body: string }[]
    for (const row of rows) this.update(row.dcname, undefined, JSON.parse(row.body) as Config)
  }
}

/**
 * A filter matches a scalar leaf whose JSON text equals the value, or a string leaf whose
 * content equals it (so `true` matches both true and "true"): the `leaves` table holds each leaf
 * in exactly that form (leavesOf), so a metadata filter is an index lookup. The first one
 * drives the query in dcname order (the leaves' primary key); the others are probed per row.
 * Prefixes (a caller's scope) are dcname ranges of that same order.
 */
export function listSql(query: ListQuery): { sql: string; params: SqlValue[] } {
  const where: string[] = []
  const params: SqlValue[] = []
  const [driver, ...probes] = query.filters.filter((f) => !isDcnameFilter(f))
  if (driver) {
    where.push('l.path = ? AND l.value = ?')
    params.push(leafPath(driver.path), driver.value)
  }
  if (query.after !== undefined) {
    where.push(driver ? 'l.dcname > ?' : 'c.dcname > ?')
    params.push(query.after)
  }
  if (query.prefixes !== undefined) {
    // Ranges of the primary key (see prefixRange), on the table that drives the query.
    const column = driver ? 'l.dcname' : 'c.dcname'
    const ranges = query.prefixes.map(prefixRange)
    const each = ranges.map((range) => {
      params.push(range.from, ...(range.to === undefined ? [] : [range.to]))
      return range.to === undefined ? `${column} >= ?` : `(${column} >= ? AND ${column} < ?)`
    })
    where.push(each.length === 0 ? '0' : `(${each.join(' OR ')})`)
  }
  for (const filter of query.filters) {
    if (isDcnameFilter(filter)) {
      where.push('c.dcname = ?')
      params.push(filter.value)
    }
  }
  for (const filter of probes) {
    where.push('EXISTS (SELECT 1 FROM leaves p WHERE p.path = ? AND p.value = ? AND p.dcname = c.dcname)')
    params.push(leafPath(filter.path), filter.value)
  }
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
  params.push(query.limit + 1)
  // CROSS JOIN keeps the leaves as the outer loop: SQLite never reorders it.
  const from = driver ? 'leaves l CROSS JOIN configs c ON c.dcname = l.dcname' : 'configs c'
  return {
    sql: `SELECT c.body, c.revision FROM ${from} ${clause} ORDER BY ${driver ? 'l' : 'c'}.dcname LIMIT ?`,
    params,
  }
}

function isDcnameFilter(filter: Filter): boolean {
  return filter.path.length === 1 && filter.path[0] === 'dcname'
}

function leafPath(path: readonly string[]): string {
  return path.join('.')
}
