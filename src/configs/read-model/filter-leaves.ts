/**
 * The scalar leaves of a config as a metadata filter compares them (see filter-match.ts): the
 * path below the root joined by '.', and the value as a filter's text matches it (a string's
 * content, anything else its JSON text). The read model's index of filters holds exactly these,
 * so a search is a lookup.
 */
import type { Config } from '../model.ts'

export type Leaf = [path: string, value: string]

/**
 * Every scalar leaf below `metadata` (objects walked, arrays not). A key with a '.' is left out:
 * no filter can name it (segments are letters, digits, '-' and '_'), and indexed it would pose
 * as a nested path. What this returns must agree with matchesFilter, which watch streams and
 * the SQLite store's filtered lists follow (test/configs/read-model.test.ts compares them).
 */
export function leavesOf(config: Config): Leaf[] {
  const leaves: Leaf[] = []
  const walk = (node: Record<string, unknown>, path: string) => {
    for (const key of Object.keys(node)) {
      const value = node[key]
      if (value === undefined || key.includes('.')) continue
      const at = `${path}.${key}`
      if (value === null || typeof value !== 'object') {
        leaves.push([at, typeof value === 'string' ? value : JSON.stringify(value)])
      } else if (!Array.isArray(value)) {
        walk(value as Record<string, unknown>, at)
      }
    }
  }
  if (config.metadata !== null && typeof config.metadata === 'object') walk(config.metadata, 'metadata')
  return leaves
}
