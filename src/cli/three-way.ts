/**
 * What `apply` makes of a config, as `kubectl apply` does: a three-way merge of what was applied
 * last time (the last-applied record), what the file says now, and what the service holds.
 * Keys the file sets are set; keys the last apply set and the file no longer has are removed;
 * keys nobody applied from a file (set by someone else) stay. Objects merge key by key, any other
 * value (arrays included) is replaced whole. With no record (a first apply from this machine),
 * nothing is removed: there is no way to tell a key removed from the file from one set elsewhere.
 */
import { isObject } from '../configs/model.ts'

type Json = Record<string, unknown>

/** The document apply writes. */
export function threeWayMerge(last: Json | undefined, desired: Json, live: Json): Json {
  const result = new Map<string, unknown>(Object.entries(live))
  for (const key of Object.keys(last ?? {})) if (!Object.hasOwn(desired, key)) result.delete(key)
  for (const [key, want] of Object.entries(desired)) {
    const have = live[key]
    const before = last?.[key]
    result.set(
      key,
      isObject(want) && isObject(have) ? threeWayMerge(isObject(before) ? before : undefined, want, have) : want,
    )
  }
  return Object.fromEntries(result)
}

/** The JSON Merge Patch (RFC 7396) that turns `from` into `to`; empty when they are equal. */
export function mergePatchBetween(from: Json, to: Json): Json {
  const patch = new Map<string, unknown>()
  for (const key of Object.keys(from)) if (!Object.hasOwn(to, key)) patch.set(key, null)
  for (const [key, value] of Object.entries(to)) {
    const old = from[key]
    if (isObject(value) && isObject(old)) {
      const inner = mergePatchBetween(old, value)
      if (Object.keys(inner).length > 0) patch.set(key, inner)
    } else if (!Object.hasOwn(from, key) || !sameJson(old, value)) {
      patch.set(key, value)
    }
  }
  return Object.fromEntries(patch)
}

/** Paths (`metadata.team`) of keys `result` has and `desired` lacks: what apply keeps from elsewhere. */
export function keptPaths(desired: Json, result: Json, prefix = ''): string[] {
  return Object.entries(result).flatMap(([key, value]) => {
    const path = `${prefix}${key}`
    if (!Object.hasOwn(desired, key)) return [path]
    const want = desired[key]
    return isObject(want) && isObject(value) ? keptPaths(want, value, `${path}.`) : []
  })
}

/** Equal as JSON values: key order does not count. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a)
    return (
      keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]))
    )
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]))
  return a === b
}
