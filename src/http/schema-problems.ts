/**
 * How schemas show in HTTP answers: the problems of their errors (422 for a body that is
 * well-formed but breaks a rule the store holds; 400 stays for a body that is not even a valid
 * config or schema request), the `Warning` header of a write a `warn` schema let through, and
 * the `dryRun` query parameter of every write.
 */

import { SchemaRevisionCompactedError } from '../configs/schema-history.ts'
import {
  InvalidSchemaError,
  SchemaNotFoundError,
  SchemaPreconditionFailedError,
  SchemaPrefixTakenError,
  SchemaViolationError,
  SchemaViolatorsError,
  type SchemaWarning,
} from '../configs/schema-model.ts'
import { badRequest, type Problem, problem } from './problem.ts'

/** The problem of a schema error, or undefined for any other error. */
export function schemaProblem(error: unknown): Problem | undefined {
  if (error instanceof SchemaViolationError) {
    return problem(422, 'schema-violation', error.message, error.violations)
  }
  if (error instanceof SchemaViolatorsError) {
    const detail = `${error.message}; the first ${error.violators.items.length} are listed (?force=true stores it anyway)`
    return {
      ...problem(422, 'schema-violators', detail),
      violators: error.violators.items,
      total: error.violators.total,
    }
  }
  if (error instanceof InvalidSchemaError) return problem(422, 'invalid-schema', error.message)
  if (error instanceof SchemaNotFoundError) return problem(404, 'not-found', error.message)
  if (error instanceof SchemaRevisionCompactedError) return problem(410, 'gone', error.message)
  if (error instanceof SchemaPrefixTakenError) return problem(409, 'conflict', error.message)
  if (error instanceof SchemaPreconditionFailedError) return problem(412, 'precondition-failed', error.message)
  return undefined
}

/** Longest Warning header text kept; the violations are in the audit line and the problem shape. */
const MAX_WARNING_TEXT = 400

/**
 * RFC 9111's Warning with code 299 ("miscellaneous persistent warning"), as Kubernetes answers
 * deprecations. Pointers name metadata keys, which may hold any character: the text is cut and
 * kept to printable ASCII (a header cannot carry more), with a quote escaped as the syntax asks.
 */
export function warningHeader(warning: SchemaWarning): string {
  const where = warning.violations.map((v) => (v.pointer === '' ? v.message : `${v.pointer} (${v.keyword})`)).join(', ')
  const text = `schema ${JSON.stringify(warning.schema)}: ${where}`
  const safe = text
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, MAX_WARNING_TEXT)
    .replace(/[\\"]/g, '\\$&')
  return `299 - "${safe}"`
}

/** `?dryRun=true` (or Kubernetes' `All`) in a query string: run the write whole and store nothing. */
export function dryRunOf(query: string): boolean {
  return flagOf(query, 'dryRun', ['true', 'All'])
}

/** A boolean query parameter: absent or `false`, or one of `yes`; anything else is a 400. */
export function flagOf(query: string, name: string, yes: readonly string[] = ['true']): boolean {
  if (query === '') return false
  const value = new URLSearchParams(query).get(name)
  if (value === null || value === 'false') return false
  if (yes.includes(value)) return true
  throw badRequest(`${name} takes false or ${yes.join(' or ')}`)
}
