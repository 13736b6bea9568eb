/**
 * Every error becomes problem+json here, in one place: typed store errors, access refusals and
 * validation errors from Elysia (a request no route serves is answered by no-route.ts, before).
 * A real internal error is a 500 whose body says nothing of the internals.
 */
import { Elysia } from 'elysia'
import { AuthenticationUnavailableError, ForbiddenError, UnauthenticatedError } from '../configs/access.ts'
import {
  ConflictError,
  HistoryCompactedError,
  NotFoundError,
  PreconditionFailedError,
  RevisionCompactedError,
  StoreUnavailableError,
} from '../configs/config-store.ts'
import { ConsumerLimitError, ReportedRevisionError } from '../configs/consumers.ts'
import type { FieldError } from '../configs/model.ts'
import { ReadModelBehindError } from '../configs/read-model/cached-store.ts'
import { RevisionNotReachedError } from '../configs/revision-rules.ts'
import { RolloutInvalidError, RolloutNotFoundError, RolloutStateError } from '../configs/rollouts/rollout-model.ts'
import { announcesPastTakenIn } from './json-body.ts'
import { badRequest, type Problem, ProblemError, problem, problemResponse } from './problem.ts'
import { schemaProblem } from './schema-problems.ts'

export type ErrorReporter = (error: unknown, request: Request) => void

export function errorHandling(report: ErrorReporter) {
  const answer = (code: string | number, error: unknown, request: Request): Response => {
    if (code === 'VALIDATION') return problemResponse(validationProblem(error, request))
    // Errors thrown while parsing arrive wrapped; the body reader throws ProblemErrors.
    const cause = code === 'PARSE' ? (error as Error).cause : error
    if (code === 'PARSE' && !(cause instanceof ProblemError)) {
      return problemResponse(problem(400, 'validation', 'the body could not be parsed'))
    }
    const mapped = mapKnownError(cause)
    if (mapped) return problemResponse(mapped.problem, mapped.headers)
    report(error, request)
    return problemResponse(problem(500, 'internal', 'an internal error occurred; it has been logged'))
  }
  return new Elysia({ name: 'error-handling' }).onError({ as: 'global' }, ({ code, error, request }) => {
    const response = answer(code, error, request)
    // The body reader's 413 has decided for itself, by the body limit.
    if (response.status !== 413 && announcesPastTakenIn(request)) response.headers.set('connection', 'close')
    return response
  })
}

function mapKnownError(error: unknown): { problem: Problem; headers?: Record<string, string> } | undefined {
  if (error instanceof ProblemError) return { problem: error.toProblem(), headers: error.headers }
  const schema = schemaProblem(error)
  if (schema) return { problem: schema }
  if (error instanceof NotFoundError) return { problem: problem(404, 'not-found', error.message) }
  if (error instanceof ConflictError) return { problem: problem(409, 'conflict', error.message) }
  if (error instanceof ConsumerLimitError) return { problem: problem(409, 'too-many-consumers', error.message) }
  if (error instanceof ReportedRevisionError) return { problem: problem(422, 'revision-not-reached', error.message) }
  if (error instanceof PreconditionFailedError) {
    return { problem: problem(412, 'precondition-failed', error.message) }
  }
  // A watch from a revision the history no longer holds: the client must list again.
  if (error instanceof HistoryCompactedError) return { problem: problem(410, 'gone', error.message) }
  // A read or rollback at a revision retention dropped; the detail names the oldest kept one.
  if (error instanceof RevisionCompactedError) return { problem: problem(410, 'gone', error.message) }
  // A read or rollback past the newest revision: nothing is known of it yet.
  if (error instanceof RevisionNotReachedError) return { problem: problem(400, 'revision-not-reached', error.message) }
  // Never a stale answer: the client retries, by when this replica has caught up.
  if (error instanceof ReadModelBehindError) {
    return { problem: problem(503, 'read-model-behind', error.message), headers: { 'retry-after': '1' } }
  }
  if (error instanceof StoreUnavailableError) {
    return { problem: problem(503, 'store-unavailable', error.message), headers: { 'retry-after': '1' } }
  }
  if (error instanceof RolloutNotFoundError) return { problem: problem(404, 'not-found', error.message) }
  if (error instanceof RolloutStateError) return { problem: problem(409, 'rollout-state', error.message) }
  if (error instanceof RolloutInvalidError) {
    return { problem: problem(422, 'rollout-invalid', error.message, error.errors) }
  }
  return mapAccessError(error)
}

/** RFC 6750: a Bearer challenge, saying `invalid_token` when one was presented. */
function mapAccessError(error: unknown): { problem: Problem; headers?: Record<string, string> } | undefined {
  if (error instanceof UnauthenticatedError) {
    const challenge = `Bearer realm="config-service"${error.presented ? ', error="invalid_token"' : ''}`
    return { problem: problem(401, 'unauthorized', error.message), headers: { 'www-authenticate': challenge } }
  }
  if (error instanceof ForbiddenError) {
    const challenge = 'Bearer realm="config-service", error="insufficient_scope"'
    return { problem: problem(403, 'forbidden', error.message), headers: { 'www-authenticate': challenge } }
  }
  if (error instanceof AuthenticationUnavailableError) {
    return { problem: problem(503, 'authentication-unavailable', error.message), headers: { 'retry-after': '5' } }
  }
  return undefined
}

interface ValidationLike {
  type?: string
  all?: SchemaError[]
}

interface SchemaError {
  path: string
  message: string
  /** TypeBox's ValueErrorType. */
  type?: number
  schema?: { error?: unknown }
}

/** TypeBox's ValueErrorType.ObjectRequiredProperty: its own message ("Expected required property") hides the cause. */
const REQUIRED_PROPERTY = 45

/**
 * Schema errors as JSON Pointers, one per pointer: a value can fail several checks of its schema
 * at once (a missing property is also "not an object"; an empty dcname is both too short and
 * off-pattern), but the client needs one cause per field. The schema's own wording wins where
 * it has one; otherwise the first error, since the validator reports a missing property before
 * the type of its absent value. The wording never holds the value (Elysia's summaries can: "but
 * found: ..." with the whole value), so nothing of the body is echoed.
 */
export function fieldErrors(errors: Iterable<SchemaError>, max = 20): FieldError[] {
  const byPointer = new Map<string, { message: string; own: boolean }>()
  for (const e of errors) {
    const own = typeof e.schema?.error === 'string'
    const kept = byPointer.get(e.path)
    if (kept && (kept.own || !own)) continue
    if (!kept && byPointer.size >= max) break
    const message = own ? (e.schema?.error as string) : e.type === REQUIRED_PROPERTY ? 'is missing' : e.message
    byPointer.set(e.path, { message, own })
  }
  return [...byPointer].map(([pointer, { message }]) => ({ pointer, message }))
}

/**
 * A body its route's schema refuses (checked by the route's hook, contract.ts). Nothing of the
 * body is in the answer but the pointers of its faults.
 */
export function invalidBody(request: Request, errors: FieldError[]): ProblemError {
  return badRequest(`the body is not a valid ${bodyKind(new URL(request.url).pathname)}`, errors)
}

/** What a route's body is, to name it in the problem: only wording, the contract decided. */
function bodyKind(path: string): string {
  if (path.endsWith('/rollback')) return 'rollback request'
  if (path.includes('/consumers/')) return 'consumer report'
  if (path.startsWith('/schemas/')) return 'schema'
  if (path.startsWith('/rollouts')) return 'rollout request'
  return 'config'
}

/**
 * Elysia's own validation errors: of path parameters. Bodies are not validated by Elysia (see
 * contract.ts); `all` lists the faults without reading the error's message, which holds the value.
 */
function validationProblem(error: unknown, request: Request): Problem {
  const { type, all = [] } = error as ValidationLike
  const errors = fieldErrors(all)
  if (type === 'body') return invalidBody(request, errors).toProblem()
  const where = type === 'params' ? 'the URL path' : `the ${type ?? 'request'}`
  const reasons = errors.map((e) => `${e.pointer.replace(/^\//, '') || 'value'}: ${e.message}`).join('; ')
  return problem(400, 'validation', `${where} is not valid: ${reasons}`)
}
