/**
 * A three-way merge of JSON documents, for an edit that lost a race: `base` is what the editor
 * started from, `mine` the edit, `theirs` what the service holds now. What only one side changed
 * is taken from that side; what both changed alike is taken once; what both changed differently
 * is a conflict, for the person to decide. Objects are merged key by key (a missing key is a
 * value too: a deletion); anything else, arrays included, is one value, taken whole.
 */

/**
 * `undefined` stands for "absent" (a deleted or never-set key) in every field.
 * @typedef {{ path: string[], base: unknown, mine: unknown, theirs: unknown }} MergeConflict
 * @typedef {{ value: unknown, conflicts: MergeConflict[] }} MergeResult `value` holds theirs where a conflict is
 * @typedef {'mine' | 'theirs'} Side
 */

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Equality of JSON values; the order of an object's keys does not count. @param {unknown} a @param {unknown} b @returns {boolean} */
export function sameJson(a, b) {
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]))
  }
  if (!isObject(a) || !isObject(b)) return false
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]))
}

/**
 * @param {unknown} base
 * @param {unknown} mine
 * @param {unknown} theirs
 * @returns {MergeResult}
 */
export function mergeThreeWay(base, mine, theirs) {
  /** @type {MergeConflict[]} */
  const conflicts = []
  const value = mergeAt([], base, mine, theirs, conflicts)
  return { value, conflicts }
}

/**
 * @param {string[]} path
 * @param {unknown} base
 * @param {unknown} mine
 * @param {unknown} theirs
 * @param {MergeConflict[]} conflicts
 * @returns {unknown}
 */
function mergeAt(path, base, mine, theirs, conflicts) {
  if (sameJson(mine, theirs)) return theirs
  if (sameJson(base, mine)) return theirs
  if (sameJson(base, theirs)) return mine
  if (isObject(mine) && isObject(theirs)) {
    // Both sides hold an object where each changed something: merged key by key. A base that
    // was not an object (or absent) had none of these keys.
    const from = isObject(base) ? base : {}
    /** @type {Record<string, unknown>} */
    const merged = {}
    const keys = [...Object.keys(theirs), ...Object.keys(mine).filter((key) => !Object.hasOwn(theirs, key))]
    for (const key of keys) {
      const value = mergeAt([...path, key], from[key], mine[key], theirs[key], conflicts)
      if (value !== undefined) merged[key] = value
    }
    return merged
  }
  conflicts.push({ path, base, mine, theirs })
  return theirs
}

/**
 * The merged document with each conflict decided: `sides[i]` for `conflicts[i]`.
 * @param {MergeResult} result
 * @param {Side[]} sides
 * @returns {unknown}
 */
export function resolveConflicts(result, sides) {
  let value = structuredClone(result.value)
  result.conflicts.forEach((conflict, index) => {
    const chosen = sides[index] === 'mine' ? conflict.mine : conflict.theirs
    value = setAt(value, conflict.path, structuredClone(chosen))
  })
  return value
}

/**
 * `value` with `path` set to `chosen` (removed where `chosen` is undefined). The parents exist:
 * a conflict lies only below objects that both sides hold.
 * @param {unknown} value
 * @param {string[]} path
 * @param {unknown} chosen
 * @returns {unknown}
 */
function setAt(value, path, chosen) {
  if (path.length === 0) return chosen
  let parent = value
  for (const key of path.slice(0, -1)) parent = isObject(parent) ? parent[key] : undefined
  const last = path.at(-1) ?? ''
  if (!isObject(parent)) return value
  if (chosen === undefined) delete parent[last]
  else parent[last] = chosen
  return value
}

/** The JSON Pointer of a path (`/metadata/limits/cpu`). @param {string[]} path */
export function pointerOf(path) {
  return path.map((key) => `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')
}
