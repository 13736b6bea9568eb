import { isObject } from './model.ts'

/**
 * JSON Merge Patch (RFC 7396): objects merge key by key, null removes a key, anything else
 * replaces. Results are built with Object.fromEntries so that no key can reach a prototype.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch
  const result = new Map<string, unknown>(isObject(target) ? Object.entries(target) : [])
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) result.delete(key)
    else result.set(key, applyMergePatch(result.get(key), value))
  }
  return Object.fromEntries(result)
}
