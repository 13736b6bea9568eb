/** Revisions travel as strong ETags: `"<revision>"`. */
import type { Precondition } from '../configs/config-store.ts'
import { badRequest } from './problem.ts'

export const etag = (revision: number): string => `"${revision}"`

/** `If-Match` / `If-None-Match` of a write, as a store precondition. */
export function writePrecondition(headers: Headers, allowCreateOnly: boolean): Precondition {
  const precondition: Precondition = {}
  const ifMatch = headers.get('if-match')
  if (ifMatch !== null) precondition.ifMatch = parseIfMatch(ifMatch)
  const ifNoneMatch = headers.get('if-none-match')
  if (ifNoneMatch !== null) {
    if (!allowCreateOnly || ifNoneMatch.trim() !== '*') {
      throw badRequest('If-None-Match on a write only takes "*" (create only), and only on PUT')
    }
    precondition.ifNoneMatch = '*'
  }
  return precondition
}

function parseIfMatch(value: string): number | '*' {
  const trimmed = value.trim()
  if (trimmed === '*') return '*'
  const match = /^"(\d{1,15})"$/.exec(trimmed)
  if (!match) throw badRequest('If-Match takes one strong ETag such as "42", or *')
  return Number(match[1])
}

/** Weak comparison, as RFC 9110 asks for If-None-Match on GET. */
export function noneMatch(header: string | null, revision: number): boolean {
  if (header === null) return true
  const current = etag(revision)
  return !header.split(',').some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, '')
    return tag === '*' || tag === current
  })
}
