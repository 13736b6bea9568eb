/**
 * The schema API's contract, route by route (see ../contract.ts): config schemas as versioned
 * objects, each a JSON Schema for the metadata of the configs under a dcname prefix.
 */
import { t } from 'elysia'
import { SchemaName } from '../../configs/schema-model.ts'
import { defineRoute, type ParameterContract } from '../contract.ts'
import { DRY_RUN, problemResponses } from '../openapi-docs.ts'

const TAGS = ['schemas']
const JSON_BODY = ['application/json']
const ETAG = { ETag: 'The revision of this state of the schema: `"<revision>"`' }
const Params = t.Object({ name: SchemaName })

const Mode = t.Union([t.Literal('enforce'), t.Literal('warn')], {
  description: '`enforce`: breaking writes are refused (422); `warn`: stored, with a `Warning` header',
})

export const SchemaBody = t.Object(
  {
    prefix: t.String({ maxLength: 253, description: 'Governs the dcnames starting with it (the longest wins)' }),
    schema: t.Record(t.String(), t.Any(), { description: 'A JSON Schema (2020-12) for the metadata' }),
    mode: Mode,
  },
  {
    additionalProperties: false,
    examples: [
      {
        prefix: 'payments-',
        mode: 'enforce',
        schema: {
          type: 'object',
          properties: { replicas: { type: 'integer', minimum: 1, maximum: 50 } },
          required: ['replicas'],
        },
      },
    ],
  },
)

export const SchemaResource = t.Object(
  {
    name: SchemaName,
    prefix: t.String(),
    mode: Mode,
    schema: t.Record(t.String(), t.Any()),
    revision: t.Integer({ minimum: 1, description: 'The store revision of the write that made this state' }),
  },
  { additionalProperties: false },
)

const Violation = t.Object({ pointer: t.String(), keyword: t.String(), message: t.String() })
export const ViolatorsSchema = t.Object({
  total: t.Integer({ minimum: 0, description: 'Every config the schema governs that breaks it' }),
  items: t.Array(t.Object({ dcname: t.String(), violations: t.Array(Violation) }), {
    description: 'The first 100, by dcname',
  }),
})

const IF_MATCH: ParameterContract = {
  description: 'Write only if the schema is at this revision: `"<revision>"` (or `*`: it must exist)',
}

export const listSchemas = defineRoute({
  method: 'GET',
  path: '/schemas',
  operationId: 'listSchemas',
  access: { action: 'read-schemas' },
  summary: 'List or watch config schemas',
  description:
    'Every schema, by name. With `watch=true` (and optionally `since=<revision>` or a `Last-Event-ID` ' +
    'header), a `text/event-stream` of ADDED, MODIFIED and DELETED schema events instead, in revision ' +
    'order; `since` replays the kept schema history after it first (410 when older than it).',
  tags: TAGS,
  query: {
    watch: { description: 'Stream schema changes as server-sent events', schema: { type: 'boolean' } },
    since: {
      description: 'With `watch=true`: replay the schema changes after this revision first',
      schema: { type: 'integer', minimum: 0 },
    },
  },
  headers: { 'Last-Event-ID': { description: 'As `since`, sent by reconnecting EventSources' } },
  responses: {
    200: {
      description: 'Every schema, by name (or, with `watch=true`, the event stream)',
      schema: t.Array(SchemaResource),
      headers: { 'X-Revision': 'A store revision at or before the list: watch from it with `since`' },
      alternatives: {
        'text/event-stream': {
          schema: { type: 'string' },
          example:
            'event: MODIFIED\nid: 42\ndata: {"type":"MODIFIED","revision":42,"schema":{"name":"payments",' +
            '"prefix":"payments-","mode":"warn","schema":{"type":"object"},"revision":42}}\n\n',
        },
      },
    },
    ...problemResponses(400, 401, 403, 410, 500, 503),
  },
})

export const getSchema = defineRoute({
  method: 'GET',
  path: '/schemas/:name',
  operationId: 'getSchema',
  access: { action: 'read-schemas' },
  summary: 'Get a config schema, now or at a revision',
  description:
    'With `revision=N`, the schema as it stood at store revision N (from its history), with the ETag of the ' +
    'write that made that state: 404 when it did not exist then, 410 when that part of its history was ' +
    'dropped, 400 when N is after the current revision.',
  tags: TAGS,
  params: Params,
  query: {
    revision: {
      description: 'Read the schema as it stood at this store revision',
      schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    },
  },
  responses: {
    200: { description: 'The schema', schema: SchemaResource, headers: ETAG },
    ...problemResponses(400, 401, 403, 404, 410, 500, 503),
  },
})

export const putSchema = defineRoute({
  method: 'PUT',
  path: '/schemas/:name',
  operationId: 'putSchema',
  access: { action: 'write-schema' },
  summary: 'Create or replace a config schema',
  description:
    'Only admins, or writers whose prefixes cover the schema prefix. Every config the schema would ' +
    'govern is checked: an `enforce` schema that some break is refused (422, with the first violators) ' +
    'unless `force=true`. At most one schema per prefix (409).',
  tags: TAGS,
  params: Params,
  query: {
    force: { description: 'Store an enforce schema although existing configs break it', schema: { type: 'boolean' } },
    dryRun: DRY_RUN,
  },
  headers: { 'If-Match': IF_MATCH },
  body: { schema: SchemaBody, mediaTypes: JSON_BODY },
  responses: {
    200: { description: 'Replaced', schema: SchemaResource, headers: ETAG },
    201: { description: 'Created', schema: SchemaResource, headers: ETAG },
    ...problemResponses(400, 401, 403, 409, 412, 413, 415, 422, 500, 503),
  },
})

export const deleteSchema = defineRoute({
  method: 'DELETE',
  path: '/schemas/:name',
  operationId: 'deleteSchema',
  access: { action: 'write-schema' },
  summary: 'Delete a config schema',
  tags: TAGS,
  params: Params,
  query: { dryRun: DRY_RUN },
  headers: { 'If-Match': IF_MATCH },
  responses: {
    204: { description: 'Deleted' },
    ...problemResponses(400, 401, 403, 404, 412, 500, 503),
  },
})

export const schemaViolations = defineRoute({
  method: 'GET',
  path: '/schemas/:name/violations',
  operationId: 'schemaViolations',
  access: { action: 'read-schemas' },
  summary: 'The configs that break a schema now',
  description: 'Of the configs the caller may read.',
  tags: TAGS,
  params: Params,
  responses: {
    200: { description: 'The violators', schema: ViolatorsSchema },
    ...problemResponses(400, 401, 403, 404, 500, 503),
  },
})

export const SCHEMA_CONTRACTS = [listSchemas, getSchema, putSchema, deleteSchema, schemaViolations]
