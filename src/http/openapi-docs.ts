/**
 * Building blocks for the OpenAPI side of routes (their `detail`): one problem+json schema,
 * named component schemas, and responses with examples, so that every route documents its
 * errors the same way. Documentation only: nothing here validates a response at run time.
 */
import { type DocumentDecoration, type TSchema, t } from 'elysia'
import { ConfigSchema, MergePatchSchema, ReplaceSchema } from '../configs/model.ts'
import { PROBLEM_CONTENT_TYPE, type Problem, problem } from './problem.ts'

/** A route's `detail`: an OpenAPI operation object. */
export type OperationDocs = DocumentDecoration
type ResponseDocs = NonNullable<OperationDocs['responses']>
type ResponseDoc = Extract<ResponseDocs[string], { description: string }>
export type ParameterDoc = Extract<NonNullable<OperationDocs['parameters']>[number], { name: string }>
type SchemaDoc = NonNullable<NonNullable<ResponseDoc['content']>[string]['schema']>

const FieldErrorSchema = t.Object({
  pointer: t.String({ description: 'JSON Pointer (RFC 6901) into the request body' }),
  message: t.String(),
})

export const ProblemSchema = t.Object(
  {
    type: t.String({ description: 'A URN naming the kind of problem' }),
    title: t.String(),
    status: t.Integer({ minimum: 400, maximum: 599 }),
    detail: t.String({ description: 'What went wrong with this request, for people' }),
    errors: t.Optional(t.Array(FieldErrorSchema, { description: 'Validation errors, one per offending field' })),
  },
  { description: 'Problem details (RFC 9457), the body of every error' },
)

/** Schemas the document names in components/schemas; request bodies made of them are referenced. */
export const COMPONENT_SCHEMAS = {
  Config: ConfigSchema,
  ConfigReplace: ReplaceSchema,
  ConfigMergePatch: MergePatchSchema,
  Problem: ProblemSchema,
} as const satisfies Record<string, TSchema>

export type ComponentName = keyof typeof COMPONENT_SCHEMAS

/** The name of the bearer-token security scheme that writes require. */
export const BEARER_AUTH = 'bearerAuth'

export const schemaRef = (name: ComponentName): SchemaDoc => ({ $ref: `#/components/schemas/${name}` })

const PROBLEMS: Record<number, { description: string; example: Problem }> = {
  400: {
    description: 'Malformed JSON, wrong types, a bad dcname, an unknown field or a bad query',
    example: problem(400, 'validation', 'the body is not a valid config', [
      { pointer: '/metadata/monitoring/enabled', message: 'expected true, false, "true" or "false"' },
    ]),
  },
  401: {
    description: 'A write without a valid bearer token (when the service runs with API_TOKEN)',
    example: problem(401, 'unauthorized', 'this write needs an Authorization: Bearer token'),
  },
  404: {
    description: 'No config has this dcname',
    example: problem(404, 'not-found', 'config "datacenter-9" does not exist'),
  },
  409: {
    description: 'A config with this dcname already exists',
    example: problem(409, 'conflict', 'config "datacenter-1" already exists'),
  },
  410: {
    description: '`since` is older than the kept history: list again, then watch from the list revision',
    example: problem(410, 'gone', 'revision 3 is older than the kept history'),
  },
  412: {
    description: '`If-Match` names another revision than the stored one (or the config is gone)',
    example: problem(412, 'precondition-failed', 'config "datacenter-1" is at revision 7'),
  },
  413: {
    description: 'The body is larger than MAX_BODY_BYTES',
    example: problem(413, 'too-large', 'the body is larger than the limit of 65536 bytes'),
  },
  415: {
    description: 'The body is not sent as JSON',
    example: problem(415, 'unsupported-media-type', 'send the body as application/json'),
  },
  503: {
    description: 'The config store cannot be reached',
    example: problem(503, 'store-unavailable', 'the config store is unavailable'),
  },
}

/** problem+json responses for these statuses, each with its description and an example. */
export function problemResponses(...statuses: number[]): Record<number, ResponseDoc> {
  return Object.fromEntries(
    statuses.map((status) => {
      const known = PROBLEMS[status]
      if (!known) throw new Error(`no problem documentation for status ${status}`)
      return [
        status,
        {
          description: known.description,
          content: { [PROBLEM_CONTENT_TYPE]: { schema: schemaRef('Problem'), example: known.example } },
        },
      ]
    }),
  )
}

/** A JSON response; `headers` maps a header name to its description (all strings). */
export function jsonResponse(
  description: string,
  schema: SchemaDoc,
  options: { example?: unknown; headers?: Record<string, string> } = {},
): ResponseDoc {
  return {
    description,
    ...(options.headers ? { headers: headerDocs(options.headers) } : {}),
    content: {
      'application/json': { schema, ...(options.example === undefined ? {} : { example: options.example }) },
    },
  }
}

export function headerDocs(headers: Record<string, string>): ResponseDoc['headers'] {
  return Object.fromEntries(
    Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
  )
}
