/**
 * How the config routes read in the OpenAPI document (their `detail`): summaries, query
 * parameters, responses with headers, error statuses and the seed configs as examples.
 * Request bodies come from the routes' own `body` schemas (POST's example is a new config).
 */

import { DEFAULT_LIMIT, MAX_LIMIT } from '../../configs/list-limits.ts'
import { exampleConfig, NEW_CONFIG_EXAMPLE, SEED_CONFIGS } from '../../configs/model.ts'
import {
  headerDocs,
  jsonResponse,
  type OperationDocs,
  type ParameterDoc,
  problemResponses,
  schemaRef,
} from '../openapi-docs.ts'

const TAGS = ['configs']
const ETAG = { ETag: 'The revision of this state, as a strong entity tag: `"<revision>"`' }
const LOCATION = { Location: 'URL of the created config' }
const EXAMPLE = exampleConfig('datacenter-1')
const DCNAME: ParameterDoc = { name: 'dcname', in: 'path', required: true, example: 'datacenter-1' }

const pagingAndFilters: ParameterDoc[] = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT } },
  {
    name: 'cursor',
    in: 'query',
    description: 'From the `Link: rel="next"` of the previous page',
    schema: { type: 'string' },
  },
  { name: 'dcname', in: 'query', description: 'Only the config with this dcname', schema: { type: 'string' } },
  {
    name: 'metadata.monitoring.enabled',
    in: 'query',
    description: 'A filter. Any `metadata.a.b=value` works the same way; all given filters must match.',
    schema: { type: 'string', enum: ['true', 'false'] },
  },
]

const listResponse = (what: string) =>
  jsonResponse(
    what,
    { type: 'array', items: schemaRef('Config') },
    {
      example: SEED_CONFIGS,
      headers: {
        'X-Revision': 'The store revision this list was read at (watch from it with `since`)',
        Link: 'Present when more remain: `<...?cursor=...>; rel="next"`',
      },
    },
  )

export const listDocs: OperationDocs = {
  tags: TAGS,
  operationId: 'listConfigs',
  summary: 'List or watch configs',
  description:
    'Sorted by dcname; takes the filters of /search and paging. With `watch=true` (and optionally ' +
    '`since=<revision>` or a `Last-Event-ID` header), a `text/event-stream` of ADDED, MODIFIED and ' +
    'DELETED events instead; a `since` older than the kept history answers 410.',
  parameters: [
    ...pagingAndFilters,
    { name: 'watch', in: 'query', description: 'Stream changes as server-sent events', schema: { type: 'boolean' } },
    {
      name: 'since',
      in: 'query',
      description: 'With `watch=true`: replay the changes after this revision first',
      schema: { type: 'integer', minimum: 0 },
    },
    {
      name: 'Last-Event-ID',
      in: 'header',
      description: 'As `since`, sent by reconnecting EventSources',
      schema: { type: 'string' },
    },
  ],
  responses: {
    200: {
      ...listResponse('The configs (or, with `watch=true`, the event stream)'),
      content: {
        ...listResponse('').content,
        'text/event-stream': {
          schema: { type: 'string' },
          example: `event: ADDED\nid: 7\ndata: {"type":"ADDED","revision":7,"config":${JSON.stringify(EXAMPLE)}}\n\n`,
        },
      },
    },
    ...problemResponses(400, 410, 503),
  },
}

export const searchDocs: OperationDocs = {
  tags: TAGS,
  operationId: 'searchConfigs',
  summary: 'Search configs',
  description: 'Each `metadata.a.b=value` (and `dcname=value`) must match; `limit` and `cursor` page.',
  parameters: pagingAndFilters,
  responses: { 200: listResponse('The matching configs, sorted by dcname'), ...problemResponses(400, 503) },
}

export const createDocs: OperationDocs = {
  tags: TAGS,
  operationId: 'createConfig',
  summary: 'Create a config',
  responses: {
    201: jsonResponse('Created', schemaRef('Config'), {
      example: NEW_CONFIG_EXAMPLE,
      headers: { ...ETAG, ...LOCATION },
    }),
    ...problemResponses(400, 401, 409, 413, 415, 503),
  },
}

export const getDocs: OperationDocs = {
  tags: TAGS,
  operationId: 'getConfig',
  summary: 'Get a config',
  parameters: [
    DCNAME,
    {
      name: 'If-None-Match',
      in: 'header',
      description: 'An ETag seen before: 304 when unchanged',
      schema: { type: 'string' },
    },
  ],
  responses: {
    200: jsonResponse('The config', schemaRef('Config'), { example: EXAMPLE, headers: ETAG }),
    304: { description: '`If-None-Match` matched: the config is unchanged', headers: headerDocs(ETAG) },
    ...problemResponses(400, 404, 503),
  },
}

const IF_MATCH: ParameterDoc = {
  name: 'If-Match',
  in: 'header',
  description: 'Write only if the stored revision is this one: `"<revision>"` (or `*`: it must exist)',
  schema: { type: 'string' },
}

export const replaceDocs: OperationDocs = {
  tags: TAGS,
  operationId: 'replaceConfig',
  summary: 'Replace or create a config',
  description: 'A `dcname` in the body must equal the one in the URL, or be left out.',
  parameters: [
    DCNAME,
    IF_MATCH,
    { name: 'If-None-Match', in: 'header', description: '`*`: only create', schema: { type: 'string' } },
  ],
  responses: {
    200: jsonResponse('Replaced', schemaRef('Config'), { example: EXAMPLE, headers: ETAG }),
    201: jsonResponse('Created', schemaRef('Config'), { example: EXAMPLE, headers: { ...ETAG, ...LOCATION } }),
    ...problemResponses(400, 401, 412, 413, 415, 503),
  },
}

export const patchDocs: OperationDocs = {
  tags: TAGS,
  operationId: 'patchConfig',
  summary: 'Patch a config (JSON Merge Patch, RFC 7396)',
  description: '`null` removes a key. The result must be a valid config; `dcname` cannot change.',
  parameters: [DCNAME, IF_MATCH],
  responses: {
    200: jsonResponse('Patched', schemaRef('Config'), { example: EXAMPLE, headers: ETAG }),
    ...problemResponses(400, 401, 404, 412, 413, 415, 503),
  },
}

export const deleteDocs: OperationDocs = {
  tags: TAGS,
  operationId: 'deleteConfig',
  summary: 'Delete a config',
  parameters: [DCNAME, IF_MATCH],
  responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 404, 412, 503) },
}
