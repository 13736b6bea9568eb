/**
 * The config API's contract, route by route: what each takes, every status it answers with its
 * body, headers and example, and how it reads in the OpenAPI document. The handlers
 * (routes.ts) are registered with these and typed by them; see ../contract.ts.
 */
import { t } from 'elysia'
import type { Action } from '../../configs/access.ts'
import { DEFAULT_LIMIT, MAX_LIMIT } from '../../configs/list-limits.ts'
import {
  ConfigSchema,
  DCNAME_PREFIX_PATTERN,
  DCNAME_PREFIX_RULE,
  DcName,
  exampleConfig,
  MergePatchSchema,
  NEW_CONFIG_EXAMPLE,
  ReplaceSchema,
  SEED_CONFIGS,
} from '../../configs/model.ts'
import { defineRoute, type ParameterContract } from '../contract.ts'
import { DRY_RUN, problemResponses } from '../openapi-docs.ts'
import type { RouteAccess } from '../route-access.ts'
import { configHistory, MAX_REVISION, REVISION_GONE, rollbackConfig } from './history-contracts.ts'

const TAGS = ['configs']
const JSON_BODY = ['application/json']
const ETAG = { ETag: 'The revision of this state, as a strong entity tag: `"<revision>"`' }
const LOCATION = { Location: 'URL of the created config' }
const EXAMPLE = exampleConfig('datacenter-1')
const Params = t.Object({ dcname: DcName })
/** The action on the config the path's `:dcname` names. */
const onPathConfig = (action: Action): RouteAccess => ({
  action,
  dcname: { param: 'dcname' },
})
const ConfigList = t.Array(ConfigSchema)
const DCNAME_PREFIX_RULE_SENTENCE = `It is ${DCNAME_PREFIX_RULE}; another answers 400.`

const pagingAndFilters: Record<string, ParameterContract> = {
  limit: {
    description: 'How many configs a page holds at most',
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  },
  cursor: { description: 'From the `Link: rel="next"` of the previous page' },
  prefix: {
    description:
      'Only configs whose dcname starts with this (e.g. `payments-`), combined with the filters and ' +
      'paging; a caller limited to prefixes sees only the part of it inside them (maybe none). ' +
      DCNAME_PREFIX_RULE_SENTENCE,
    schema: { type: 'string', pattern: DCNAME_PREFIX_PATTERN, maxLength: 253 },
  },
  dcname: { description: 'Only the config with this dcname' },
  'metadata.monitoring.enabled': {
    description: 'A filter. Any `metadata.a.b=value` works the same way; all given filters must match.',
    schema: { type: 'string', enum: ['true', 'false'] },
  },
}

const listHeaders = {
  'X-Revision': 'The store revision this list was read at (watch from it with `since`)',
  Link: 'Present when more remain: `<...?cursor=...>; rel="next"`',
}

const IF_MATCH: ParameterContract = {
  description: 'Write only if the stored revision is this one: `"<revision>"` (or `*`: it must exist)',
}

export const listConfigs = defineRoute({
  method: 'GET',
  path: '/configs',
  access: { action: 'list' },
  operationId: 'listConfigs',
  summary: 'List or watch configs',
  description:
    'Sorted by dcname; takes the filters and `prefix` of /search and paging. With `watch=true` (and optionally ' +
    '`since=<revision>` or a `Last-Event-ID` header), a `text/event-stream` of ADDED, MODIFIED and ' +
    'DELETED events instead; a `since` older than the kept history answers 410.',
  tags: TAGS,
  query: {
    ...pagingAndFilters,
    watch: { description: 'Stream changes as server-sent events', schema: { type: 'boolean' } },
    since: {
      description: 'With `watch=true`: replay the changes after this revision first',
      schema: { type: 'integer', minimum: 0 },
    },
  },
  headers: { 'Last-Event-ID': { description: 'As `since`, sent by reconnecting EventSources' } },
  responses: {
    200: {
      description: 'The configs (or, with `watch=true`, the event stream)',
      schema: ConfigList,
      example: SEED_CONFIGS,
      headers: listHeaders,
      alternatives: {
        'text/event-stream': {
          schema: { type: 'string' },
          example: `event: ADDED\nid: 7\ndata: {"type":"ADDED","revision":7,"config":${JSON.stringify(EXAMPLE)}}\n\n`,
        },
      },
    },
    ...problemResponses(400, 401, 403, 410, 500, 503),
  },
})

export const searchConfigs = defineRoute({
  method: 'GET',
  path: '/search',
  access: { action: 'search' },
  operationId: 'searchConfigs',
  summary: 'Search configs',
  description:
    'Each `metadata.a.b=value` (and `dcname=value`) must match, and the dcname must start with ' +
    '`prefix` when given; `limit` and `cursor` page.',
  tags: TAGS,
  query: pagingAndFilters,
  responses: {
    200: {
      description: 'The matching configs, sorted by dcname',
      schema: ConfigList,
      example: SEED_CONFIGS,
      headers: listHeaders,
    },
    ...problemResponses(400, 401, 403, 500, 503),
  },
})

export const createConfig = defineRoute({
  method: 'POST',
  path: '/configs',
  access: { action: 'create', dcname: { bodyField: 'dcname' } },
  operationId: 'createConfig',
  query: { dryRun: DRY_RUN },
  summary: 'Create a config',
  tags: TAGS,
  body: { schema: ConfigSchema, mediaTypes: JSON_BODY },
  responses: {
    201: {
      description: 'Created',
      schema: ConfigSchema,
      example: NEW_CONFIG_EXAMPLE,
      headers: { ...ETAG, ...LOCATION },
    },
    ...problemResponses(400, 401, 403, 409, 413, 415, 422, 500, 503),
  },
})

export const getConfig = defineRoute({
  method: 'GET',
  path: '/configs/:dcname',
  access: onPathConfig('get'),
  operationId: 'getConfig',
  summary: 'Get a config, now or at a revision',
  description:
    'With `revision=N`, the config as it stood at store revision N (from its history), with the ETag ' +
    'of the write that made that state: 404 when it did not exist then, 410 when retention dropped ' +
    'that part of its history, 400 when the store has not reached it yet (the detail names the current ' +
    'revision). A state at a revision never changes, so `If-None-Match` works the same.',
  tags: TAGS,
  params: Params,
  query: {
    revision: {
      description: 'A store revision (a positive whole number): the config as it stood then',
      schema: { type: 'integer', minimum: 1, maximum: MAX_REVISION },
    },
  },
  headers: { 'If-None-Match': { description: 'An ETag seen before: 304 when unchanged' } },
  responses: {
    200: { description: 'The config', schema: ConfigSchema, example: EXAMPLE, headers: ETAG },
    304: { description: '`If-None-Match` matched: the config is unchanged', headers: ETAG },
    ...problemResponses(400, 401, 403),
    404: {
      ...problemResponses(404)[404],
      description: 'No config has this dcname (with `revision`: it did not exist at that revision)',
    },
    ...REVISION_GONE,
    ...problemResponses(500, 503),
  },
})

export const replaceConfig = defineRoute({
  method: 'PUT',
  path: '/configs/:dcname',
  access: onPathConfig('replace'),
  operationId: 'replaceConfig',
  summary: 'Replace or create a config',
  description: 'A `dcname` in the body must equal the one in the URL, or be left out.',
  tags: TAGS,
  params: Params,
  query: { dryRun: DRY_RUN },
  headers: { 'If-Match': IF_MATCH, 'If-None-Match': { description: '`*`: only create' } },
  body: { schema: ReplaceSchema, mediaTypes: JSON_BODY },
  responses: {
    200: { description: 'Replaced', schema: ConfigSchema, example: EXAMPLE, headers: ETAG },
    201: { description: 'Created', schema: ConfigSchema, example: EXAMPLE, headers: { ...ETAG, ...LOCATION } },
    ...problemResponses(400, 401, 403, 412, 413, 415, 422, 500, 503),
  },
})

export const patchConfig = defineRoute({
  method: 'PATCH',
  path: '/configs/:dcname',
  access: onPathConfig('patch'),
  operationId: 'patchConfig',
  summary: 'Patch a config (JSON Merge Patch, RFC 7396)',
  description: '`null` removes a key. The result must be a valid config; `dcname` cannot change.',
  tags: TAGS,
  params: Params,
  query: { dryRun: DRY_RUN },
  headers: { 'If-Match': IF_MATCH },
  // The body reader (json-body.ts) takes both; other patch formats answer 415.
  body: { schema: MergePatchSchema, mediaTypes: ['application/merge-patch+json', 'application/json'] },
  responses: {
    200: { description: 'Patched', schema: ConfigSchema, example: EXAMPLE, headers: ETAG },
    ...problemResponses(400, 401, 403, 404, 412, 413, 415, 422, 500, 503),
  },
})

export const deleteConfig = defineRoute({
  method: 'DELETE',
  path: '/configs/:dcname',
  access: onPathConfig('delete'),
  operationId: 'deleteConfig',
  summary: 'Delete a config',
  tags: TAGS,
  params: Params,
  query: { dryRun: DRY_RUN },
  headers: { 'If-Match': IF_MATCH },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 403, 404, 412, 500, 503) },
})

export const CONFIG_CONTRACTS = [
  listConfigs,
  searchConfigs,
  createConfig,
  getConfig,
  replaceConfig,
  patchConfig,
  deleteConfig,
  configHistory,
  rollbackConfig,
]
