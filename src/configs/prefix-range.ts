/** A dcname prefix as a range of the stores' dcname index: access scoping and `prefix=` lists. */

/** The dcnames starting with a prefix are exactly those in [from, to) (to undefined: no end). */
export interface PrefixRange {
  from: string
  to?: string
}

/**
 * A prefix as a range of the byte-ordered dcname index (SQLite's BINARY collation, PostgreSQL's
 * COLLATE "C"; code point order is UTF-8 byte order): `to` is the prefix with its last code
 * point raised by one. A range needs no LIKE pattern, so no escaping of `_` and `%` (which
 * dcnames may hold) and no dependence on a collation's idea of case.
 */
export function prefixRange(prefix: string): PrefixRange {
  const points = [...prefix]
  while (points.length > 0) {
    const last = (points.pop() as string).codePointAt(0) as number
    // The highest code point cannot be raised: the range ends where the shorter prefix's does.
    if (last === 0x10ffff) continue
    const next = last === 0xd7ff ? 0xe000 : last + 1 // surrogates are no code points of their own
    return { from: prefix, to: points.join('') + String.fromCodePoint(next) }
  }
  return { from: prefix }
}
