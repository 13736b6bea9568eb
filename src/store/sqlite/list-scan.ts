/**
 * Lists of the SQLite store, in dcname order. A metadata filter is answered by reading the
 * configs in that order, a chunk at a time, and keeping those every filter matches (the domain's
 * matchesFilters, the rule the read model and watch streams follow), until the page is full;
 * SQLite passes over the bodies that do not even hold the value's text (bodyText).
 * There is no index of metadata leaves: writes would pay to keep one up, while the service
 * answers searches from its read model (src/configs/read-model/read-model.ts) and the store's own
 * filtered list serves only while that model loads, and tools that use the store directly.
 */
import { type Filter, type ListQuery, prefixRange, type StoredConfig } from '../../configs/config-store.ts'
import { matchesFilters } from '../../configs/filter-match.ts'
import type { SqliteDatabase, SqliteStatement, SqlValue } from './sqlite-driver.ts'
import { type Row, toStored } from './sqlite-statements.ts'

/** Rows read per step of a filtered scan: few statement calls, and a small page stops soon after it is full. */
const SCAN_CHUNK = 256

type ScanRow = Row & { dcname: string }

export interface ListRows {
  items: StoredConfig[]
  more: boolean
}

export class ListScan {
  private readonly statements = new Map<string, SqliteStatement>()

  constructor(private readonly db: SqliteDatabase) {}

  /** One page of `query`; the caller runs it inside one read snapshot, so the chunks agree. */
  page(query: ListQuery): ListRows {
    const metadataFilters = query.filters.filter((f) => !isDcnameFilter(f))
    if (metadataFilters.length === 0) {
      const rows = this.rows(query, query.after, query.limit + 1)
      return { items: rows.slice(0, query.limit).map(toStored), more: rows.length > query.limit }
    }
    const items: ListRows['items'] = []
    let after = query.after
    for (;;) {
      const rows = this.rows(query, after, SCAN_CHUNK)
      for (const row of rows) {
        const item = toStored(row)
        if (!matchesFilters(item.config, metadataFilters)) continue
        if (items.length === query.limit) return { items, more: true }
        items.push(item)
      }
      if (rows.length < SCAN_CHUNK) return { items, more: false }
      after = rows[rows.length - 1]?.dcname
    }
  }

  /** Up to `limit` rows after `after`, in dcname order, inside the query's prefixes and dcname filters. */
  private rows(query: ListQuery, after: string | undefined, limit: number): ScanRow[] {
    const { sql, params } = rangeSql(query, after)
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      // Queries come in few shapes (prefix counts); keep the cache bounded in case a caller varies them.
      if (this.statements.size < 256) this.statements.set(sql, statement)
    }
    return statement.all(...params, limit) as ScanRow[]
  }
}

/**
 * The rows a page can hold, as ranges of the primary key (after the cursor, inside one of the
 * prefixes, see prefixRange; equal to a dcname filter), and for each metadata filter only the
 * bodies holding its value's text (bodyText): SQLite skips most rows that cannot match without
 * handing them over to be parsed. matchesFilters decides.
 */
function rangeSql(query: ListQuery, after: string | undefined): { sql: string; params: SqlValue[] } {
  const where: string[] = []
  const params: SqlValue[] = []
  if (after !== undefined) {
    where.push('dcname > ?')
    params.push(after)
  }
  if (query.prefixes !== undefined) {
    const each = query.prefixes.map(prefixRange).map((range) => {
      params.push(range.from, ...(range.to === undefined ? [] : [range.to]))
      return range.to === undefined ? 'dcname >= ?' : '(dcname >= ? AND dcname < ?)'
    })
    where.push(each.length === 0 ? '0' : `(${each.join(' OR ')})`)
  }
  for (const filter of query.filters) {
    if (isDcnameFilter(filter)) {
      where.push('dcname = ?')
      params.push(filter.value)
    } else {
      where.push('instr(body, ?) > 0')
      params.push(bodyText(filter.value))
    }
  }
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
  return { sql: `SELECT dcname, body, revision FROM configs ${clause} ORDER BY dcname LIMIT ?`, params }
}

function isDcnameFilter(filter: Filter): boolean {
  return filter.path.length === 1 && filter.path[0] === 'dcname'
}

/**
 * What a body holding a leaf that matches `value` contains for sure. Bodies are stored as
 * JSON.stringify wrote them: a string leaf equal to the value appears as the value's JSON string
 * (this is its inside, escapes included), a number, boolean or null leaf as its JSON text, which
 * then equals the value and has nothing to escape.
 */
function bodyText(value: string): string {
  return JSON.stringify(value).slice(1, -1)
}
