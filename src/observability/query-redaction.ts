/**
 * Query values out of log lines. A URL's query string may carry a secret (`?access_token=...`:
 * this service reads no token from a query, but clients and proxies put them there anyway), and
 * a log line may hold a URL anywhere: the `request failed` line's `url`, an error's message or
 * stack, a span attribute. So every string of a line is looked at, not a list of known fields:
 * in each query string it holds, each value becomes `[redacted]` and each name stays, so a line
 * still says which parameters were sent.
 */

const CENSOR = '[redacted]'

/**
 * A query string: a `?` and what follows it up to a space, a quote, an angle bracket or a
 * fragment. A `?` that ends a sentence is followed by a space and matches nothing.
 */
const QUERY = /\?[^\s"'<>#]+/g
/** A value within a query: from its `=` up to the next parameter. */
const VALUE = /=[^&]*/g

/** The text with the value of every query parameter in it censored. */
export function redactQueryValues(text: string): string {
  if (!text.includes('?')) return text
  return text.replace(QUERY, (query) => query.replace(VALUE, `=${CENSOR}`))
}

/** Fields that hold a query string without its `?` (OpenTelemetry's `url.query`). */
const QUERY_FIELDS = new Set(['query', 'url.query'])

function redactField(key: string, value: unknown, depth: number): unknown {
  if (typeof value === 'string' && QUERY_FIELDS.has(key)) return value.replace(VALUE, `=${CENSOR}`)
  return redactQueries(value, depth)
}

/** How deep into a line's objects strings are looked for: log lines here are shallow. */
const MAX_DEPTH = 8

/**
 * The value with every string in it (in the own fields of objects and in arrays, to MAX_DEPTH)
 * passed through redactQueryValues; copied only where something changes, so a line without a
 * query costs a walk and no allocation.
 */
export function redactQueries<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redactQueryValues(value) as T
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    value.forEach((item, i) => {
      const redacted = redactQueries(item, depth + 1)
      if (redacted !== item) {
        copy ??= [...value]
        copy[i] = redacted
      }
    })
    return (copy ?? value) as T
  }
  // An error is redacted once the logger's `err` serializer has made it an object of strings.
  if (value instanceof Error || value instanceof Date) return value
  const record = value as Record<string, unknown>
  let copy: Record<string, unknown> | undefined
  for (const key of Object.keys(record)) {
    const item = record[key]
    const redacted = redactField(key, item, depth + 1)
    if (redacted !== item) {
      copy ??= { ...record }
      copy[key] = redacted
    }
  }
  return (copy ?? value) as T
}
