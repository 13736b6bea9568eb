/**
 * Problem details (RFC 9457): the one shape every error of this service takes.
 * Handlers throw ProblemError; the error handler turns it (and every other error) into a response.
 */
import type { FieldError } from '../configs/model.ts'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  errors?: FieldError[]
  /** A schema change refused: the configs that break it (the first ones) and how many do. */
  violators?: { dcname: string; violations: FieldError[] }[]
  total?: number
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    /** Short machine-friendly name, e.g. "validation"; becomes the problem type. */
    readonly kind: string,
    detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail)
    this.name = 'ProblemError'
  }

  toProblem(): Problem {
    return problem(this.status, this.kind, this.message, this.errors)
  }
}

export function problem(status: number, kind: string, detail: string, errors?: FieldError[]): Problem {
  return {
    type: `urn:config-service:problem:${kind}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...(errors && errors.length > 0 ? { errors } : {}),
  }
}

export function problemResponse(body: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { ...headers, 'content-type': PROBLEM_CONTENT_TYPE },
  })
}

export const badRequest = (detail: string, errors?: FieldError[]) => new ProblemError(400, 'validation', detail, errors)
