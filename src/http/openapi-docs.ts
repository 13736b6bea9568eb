/**
 * What the route contracts share: the one problem+json schema with a description and an example
 * per error status, so that every route declares its errors the same way, and the schemas the
 * document names as components.
 */
import { t } from 'elysia'
import { ConfigSchema, MergePatchSchema, ReplaceSchema } from '../configs/model.ts'
import type { NamedSchemas, ParameterContract, ResponseContract } from './contract.ts'
import { PROBLEM_CONTENT_TYPE, type Problem, problem } from './problem.ts'

const FieldErrorSchema = t.Object({
  pointer: t.String({ description: 'JSON Pointer (RFC 6901) into the request body' }),
  message: t.String(),
  keyword: t.Optional(t.String({ description: 'The JSON Schema keyword broken (config schemas)' })),
})

export const ProblemSchema = t.Object(
  {
    type: t.String({ description: 'A URN naming the kind of problem' }),
    title: t.String(),
    status: t.Integer({ minimum: 400, maximum: 599 }),
    detail: t.String({ description: 'What went wrong with this request, for people' }),
    errors: t.Optional(t.Array(FieldErrorSchema, { description: 'Validation errors, one per offending field' })),
    violators: t.Optional(
      t.Array(t.Object({ dcname: t.String(), violations: t.Array(FieldErrorSchema) }), {
        description: 'A refused schema change: the first configs that break it',
      }),
    ),
    total: t.Optional(t.Integer({ minimum: 0, description: 'How many configs break it' })),
  },
  { description: 'Problem details (RFC 9457), the body of every error' },
)

/** One write as history keeps it (the domain's HistoryEntry); for DELETED, `config` is the last state. */
export const HistoryEntrySchema = t.Object(
  {
    revision: t.Integer({ minimum: 1, description: 'The store revision of the write' }),
    type: t.Union([t.Literal('ADDED'), t.Literal('MODIFIED'), t.Literal('DELETED')]),
    time: t.String({ description: 'When the write was made, RFC 3339 (UTC)' }),
    actor: t.String({ description: "`anonymous`, `api-token`, a token's name or a JWT subject" }),
    requestId: t.Optional(
      t.String({
        description:
          'The X-Request-Id of the write; absent when no request made it (the SEED configs, entries kept ' +
          'from before history recorded requests)',
      }),
    ),
    rollbackOf: t.Optional(
      t.Integer({
        minimum: 1,
        description:
          'Present only when the write was a rollback: the store revision whose state it restored ' +
          '(`type` is MODIFIED, or ADDED when it re-created a deleted config)',
      }),
    ),
    rollout: t.Optional(t.String({ description: 'Present only when a rollout made the write: its id' })),
    config: ConfigSchema,
  },
  { additionalProperties: false },
)

/** Schemas the document names in components/schemas; wherever a contract uses one, it is referenced. */
export const COMPONENT_SCHEMAS = {
  Config: ConfigSchema,
  ConfigReplace: ReplaceSchema,
  ConfigMergePatch: MergePatchSchema,
  HistoryEntry: HistoryEntrySchema,
  Problem: ProblemSchema,
} as const satisfies NamedSchemas

/** Every write's `dryRun`: run it whole (access, schema, preconditions, merge) and store nothing. */
export const DRY_RUN: ParameterContract = {
  description:
    'Run the write whole (access, config schema, preconditions, merge), answer what it would store, store nothing',
  schema: { type: 'string', enum: ['true', 'false', 'All'] },
}

/** The name of the bearer-token security scheme that writes require. */
export const BEARER_AUTH = 'bearerAuth'

const PROBLEMS = {
  400: {
    description: 'Malformed JSON, wrong types, a bad dcname, an unknown field or a bad query',
    example: problem(400, 'validation', 'the body is not a valid config', [
      { pointer: '/metadata/monitoring/enabled', message: 'expected true, false, "true" or "false"' },
    ]),
  },
  401: {
    description:
      'No bearer token where one is needed (writes once any token is configured; reads too with ' +
      'ANONYMOUS_READ=false), or a token nobody issued. The answer carries `WWW-Authenticate: Bearer`',
    example: problem(401, 'unauthorized', 'this request needs an Authorization: Bearer token'),
  },
  403: {
    description:
      'A known caller that may not: its role may not write, the config lies outside its prefixes, or ' +
      'it is a valid JWT whose subject has no role here',
    example: problem(403, 'forbidden', 'ci-payments may not access "billing-1": outside its prefixes'),
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
  422: {
    description:
      'Well-formed, but it breaks a rule the store holds: the config schema that governs the dcname ' +
      '(each violation with its pointer and keyword), or a schema that cannot be used',
    example: problem(422, 'schema-violation', 'config "payments-1" breaks schema "payments"', [
      { pointer: '/metadata/replicas', keyword: 'maximum', message: 'must be <= 50' },
    ]),
  },
  500: {
    description: 'An internal error: it is logged, and the answer says nothing of it',
    example: problem(500, 'internal', 'an internal error occurred; it has been logged'),
  },
  503: {
    description: 'The config store cannot be reached',
    example: problem(503, 'store-unavailable', 'the config store is unavailable'),
  },
} satisfies Record<number, { description: string; example: Problem }>

type ProblemStatus = keyof typeof PROBLEMS
type ProblemResponse = ResponseContract<typeof ProblemSchema> & { schema: typeof ProblemSchema }

/** problem+json responses for these statuses, each with its description and an example. */
export function problemResponses<const Statuses extends readonly ProblemStatus[]>(
  ...statuses: Statuses
): { [Status in Statuses[number]]: ProblemResponse } {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: PROBLEMS[status].description,
        schema: ProblemSchema,
        mediaType: PROBLEM_CONTENT_TYPE,
        example: PROBLEMS[status].example,
      },
    ]),
  ) as { [Status in Statuses[number]]: ProblemResponse }
}
