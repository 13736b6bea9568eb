/**
 * The contracts of a schema's history: its entries, and a rollback to one of them (reading a
 * schema at a revision is a query parameter of getSchema, watching schemas one of listSchemas).
 * As the config history's (../configs/history-contracts.ts); see ../contract.ts.
 */
import { t } from 'elysia'
import { DEFAULT_LIMIT, MAX_LIMIT } from '../../configs/list-limits.ts'
import { SchemaName } from '../../configs/schema-model.ts'
import { MAX_REVISION } from '../configs/history-contracts.ts'
import { defineRoute } from '../contract.ts'
import { DRY_RUN, problemResponses } from '../openapi-docs.ts'
import { problem } from '../problem.ts'
import { SchemaResource } from './contracts.ts'

const TAGS = ['schemas']
const Params = t.Object({ name: SchemaName })
const ETAG = { ETag: 'The revision of this state of the schema: `"<revision>"`' }

const EXAMPLE_SCHEMA = {
  name: 'payments',
  prefix: 'payments-',
  mode: 'enforce' as const,
  schema: { type: 'object', properties: { replicas: { type: 'integer', minimum: 1, maximum: 50 } } },
}

export const SchemaHistoryEntry = t.Object(
  {
    revision: t.Integer({ minimum: 1, description: 'The store revision of the write' }),
    type: t.Union([t.Literal('ADDED'), t.Literal('MODIFIED'), t.Literal('DELETED')]),
    time: t.String({ description: 'When the write was made, RFC 3339 (UTC)' }),
    actor: t.String({ description: "`anonymous`, `api-token`, a token's name or a JWT subject" }),
    requestId: t.Optional(
      t.String({ description: 'The X-Request-Id of the write; absent for entries kept from before schema history' }),
    ),
    rollbackOf: t.Optional(
      t.Integer({ minimum: 1, description: 'Only on a rollback: the store revision whose state it restored' }),
    ),
    force: t.Optional(t.Literal(true, { description: 'The write asked `force=true`' })),
    schema: t.Object(
      {
        name: SchemaName,
        prefix: t.String(),
        mode: t.Union([t.Literal('enforce'), t.Literal('warn')]),
        schema: t.Record(t.String(), t.Any()),
      },
      { additionalProperties: false, description: 'The state the write left (for DELETED, the last state)' },
    ),
  },
  { additionalProperties: false },
)

export const schemaHistory = defineRoute({
  method: 'GET',
  path: '/schemas/:name/history',
  operationId: 'schemaHistory',
  access: { action: 'read-schemas' },
  summary: 'History of a config schema',
  description:
    'Every kept write of this schema, newest first: who (`actor`), when, in which request, and the state ' +
    "it left (for DELETED, the last state); a rollback's entry has `rollbackOf`, a forced write's " +
    '`force`. A deleted schema keeps its history. Paged by `limit` and `cursor`.',
  tags: TAGS,
  params: Params,
  query: {
    limit: {
      description: 'How many entries a page holds at most',
      schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
    },
    cursor: { description: 'From the `Link: rel="next"` of the previous page' },
  },
  responses: {
    200: {
      description: 'The entries, newest first',
      schema: t.Array(SchemaHistoryEntry),
      example: [
        {
          revision: 42,
          type: 'MODIFIED',
          time: '2025-05-04T10:15:02.113Z',
          actor: 'ops-admin',
          requestId: '7d0c6f1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f',
          rollbackOf: 17,
          schema: EXAMPLE_SCHEMA,
        },
      ],
      headers: { Link: 'Present when older entries remain: `<...?cursor=...>; rel="next"`' },
    },
    ...problemResponses(400, 401, 403),
    404: { ...problemResponses(404)[404], description: 'No schema of this name ever existed' },
    ...problemResponses(500, 503),
  },
})

export const rollbackSchema = defineRoute({
  method: 'POST',
  path: '/schemas/:name/rollback',
  operationId: 'rollbackSchema',
  access: { action: 'write-schema' },
  summary: 'Roll a config schema back to a revision',
  description:
    'Writes the state the schema had at store revision `revision` again, as a new revision: a schema write ' +
    'like a PUT of that state (admins, or writers covering its prefix and the stored one; every config it ' +
    'would govern is checked, an `enforce` state some break is refused with 422 unless `force=true`), kept ' +
    'in history and watched with `rollbackOf`. `If-Match` is checked against the schema as it is now.',
  tags: TAGS,
  params: Params,
  query: {
    force: { description: 'Restore an enforce schema although existing configs break it', schema: { type: 'boolean' } },
    dryRun: DRY_RUN,
  },
  headers: {
    'If-Match': { description: 'Roll back only if the schema is at this revision: `"<revision>"` (or `*`)' },
  },
  body: {
    schema: t.Object(
      {
        revision: t.Integer({
          minimum: 1,
          maximum: MAX_REVISION,
          description: 'A store revision of this schema',
          error: 'must be a positive whole number (a store revision)',
        }),
      },
      { additionalProperties: false },
    ),
    mediaTypes: ['application/json'],
    example: { revision: 17 },
  },
  responses: {
    200: { description: 'Rolled back', schema: SchemaResource, headers: ETAG },
    201: { description: 'Rolled back a deleted schema: it exists again', schema: SchemaResource, headers: ETAG },
    ...problemResponses(400, 401, 403),
    404: {
      ...problemResponses(404)[404],
      description: 'The schema did not exist at this revision',
      example: problem(404, 'not-found', 'schema "payments" did not exist at revision 3'),
    },
    410: {
      ...problemResponses(410)[410],
      description: 'The revision is older than the kept history of this schema',
    },
    ...problemResponses(409, 412, 413, 415, 422, 500, 503),
  },
})

export const SCHEMA_HISTORY_CONTRACTS = [schemaHistory, rollbackSchema]
