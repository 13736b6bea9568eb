/**
 * The keys a filter of lists, searches and watches may have: `dcname`, or `metadata.<path>` of
 * letters, digits, `-` and `_` segments. The HTTP adapter answers 400 for any other; configctl
 * refuses it before sending anything.
 */

const SEGMENT = /^[A-Za-z0-9_-]{1,128}$/
const MAX_PATH = 17
export const MAX_FILTERS = 32

/** `unknown`: neither dcname nor metadata.*; `malformed`: metadata.* with a bad path. */
export type FilterKey = { path: string[] } | { problem: 'unknown' | 'malformed' }

export function parseFilterKey(key: string): FilterKey {
  if (key === 'dcname') return { path: ['dcname'] }
  const path = key.split('.')
  if (path[0] !== 'metadata' || path.length < 2) return { problem: 'unknown' }
  if (path.length > MAX_PATH || !path.every((segment) => SEGMENT.test(segment))) return { problem: 'malformed' }
  return { path }
}
