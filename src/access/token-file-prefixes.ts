/**
 * Prefixes of a tokens file that grant more than they seem to. A prefix is plain: `team-a`
 * covers every dcname starting so, `team-ab-x` as well as `team-a-x`. When another entry is
 * limited to `team-ab`, that is most likely not meant: the operator is told at load (the file is
 * still taken, as it was before, so that a reload never locks anyone out for a warning).
 */
import type { Principal } from '../configs/access.ts'
import type { TokenTable } from './token-table.ts'

/**
 * A prefix ending in one of these stops at a word: `team-a-` does not cover `team-ab`. (`/`
 * would be one too, but neither a dcname nor a prefix may hold it.)
 */
const DELIMITERS = ['-', '.', '_']

export interface NestedPrefix {
  /** The token name or JWT subject whose prefix covers more. */
  actor: string
  /** Its prefixes that cover another entry's prefix, e.g. `team-a`. */
  prefixes: string[]
  /** The other entries' prefixes they cover, e.g. `team-ab`. */
  covered: string[]
}

/** One finding per entry (token or subject) that has such a prefix, in the order of the file. */
export function nestedPrefixes(table: TokenTable): NestedPrefix[] {
  const entries = [...table.tokens.map((token) => token.principal), ...table.subjects.values()]
  const findings: NestedPrefix[] = []
  for (const entry of entries) {
    const prefixes = new Set<string>()
    const covered = new Set<string>()
    for (const prefix of entry.prefixes ?? []) {
      if (DELIMITERS.some((delimiter) => prefix.endsWith(delimiter))) continue
      for (const other of othersOf(entries, entry)) {
        if (other.length > prefix.length && other.startsWith(prefix)) {
          prefixes.add(prefix)
          covered.add(other)
        }
      }
    }
    if (prefixes.size > 0) findings.push({ actor: entry.actor, prefixes: [...prefixes], covered: [...covered] })
  }
  return findings
}

function othersOf(entries: Principal[], entry: Principal): string[] {
  return entries.filter((other) => other !== entry).flatMap((other) => other.prefixes ?? [])
}
