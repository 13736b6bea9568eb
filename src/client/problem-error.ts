/**
 * What the client throws: the service's problem+json answer as it is (ProblemError), or the
 * service not answering at all (UnreachableError), so callers never parse bodies or guess.
 */

import type { FieldError } from '../configs/model.ts'

export type { FieldError }

/** An RFC 9457 problem, as every error of the service is answered. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  errors?: FieldError[]
}

export class ProblemError extends Error {
  readonly status: number
  readonly type: string
  readonly title: string
  readonly detail: string
  readonly errors: FieldError[]

  constructor(readonly problem: Problem) {
    super(problem.detail)
    this.name = 'ProblemError'
    this.status = problem.status
    this.type = problem.type
    this.title = problem.title
    this.detail = problem.detail
    this.errors = problem.errors ?? []
  }

  /**
   * From an answer's status and its (already parsed) body. Something in between (a proxy, a
   * load balancer) may answer with no problem at all; its text becomes the detail.
   */
  static from(status: number, body: unknown): ProblemError {
    if (isProblem(body)) return new ProblemError({ ...body, status })
    const text = typeof body === 'string' ? body.trim().slice(0, 200) : ''
    return new ProblemError({
      type: 'about:blank',
      title: `HTTP ${status}`,
      status,
      detail: text === '' ? `the service answered ${status} without a problem body` : text,
    })
  }
}

/** The service could not be reached (refused, reset, DNS, timeout): no answer to show. */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    override readonly cause: unknown,
  ) {
    super(`cannot reach ${url}: ${cause instanceof Error ? cause.message : String(cause)}`)
    this.name = 'UnreachableError'
  }
}

function isProblem(body: unknown): body is Problem {
  if (body === null || typeof body !== 'object') return false
  const { title, detail } = body as Record<string, unknown>
  return typeof title === 'string' && typeof detail === 'string'
}
