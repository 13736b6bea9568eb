/**
 * The contracts of a config's history: its entries, and a rollback to one of them (reading a
 * config at a revision is a query parameter of getConfig, in contracts.ts). See ../contract.ts.
 */
import { t } from 'elysia'
import { DEFAULT_LIMIT, MAX_LIMIT } from '../../configs/list-limits.ts'
import { ConfigSchema, DcName, exampleConfig } from '../../configs/model.ts'
import { defineRoute, type ResponseContract } from '../contract.ts'
import { DRY_RUN, HistoryEntrySchema, problemResponses } from '../openapi-docs.ts'
import { problem } from '../problem.ts'

const TAGS = ['configs']
const Params = t.Object({ dcname: DcName })
const ETAG = { ETag: 'The revision of this state, as a strong entity tag: `"<revision>"`' }
const EXAMPLE = exampleConfig('datacenter-1')

/** The largest revision a request may name: beyond it a number no longer counts exactly. */
export const MAX_REVISION = Number.MAX_SAFE_INTEGER

/** 410 of a read or rollback at a revision that retention dropped. */
export const REVISION_GONE: Record<410, ResponseContract> = {
  410: {
    ...problemResponses(410)[410],
    description:
      'The revision is older than the kept history of this config (HISTORY_KEEP, HISTORY_RETENTION_DAYS); ' +
      'the detail names the oldest kept revision',
    example: problem(
      410,
      'gone',
      'revision 3 of config "datacenter-1" is older than its kept history (the oldest kept is 41)',
    ),
  },
}

const HISTORY_EXAMPLE = [
  {
    revision: 51,
    type: 'MODIFIED',
    time: '2025-05-04T11:02:40.006Z',
    actor: 'ops-admin',
    requestId: '0c2d84a1-5b7e-4f11-9d3a-6e8f2b1c7a90',
    rollbackOf: 17,
    config: { ...EXAMPLE, metadata: { ...EXAMPLE.metadata, monitoring: { enabled: false } } },
  },
  {
    revision: 42,
    type: 'MODIFIED',
    time: '2025-05-04T10:15:02.113Z',
    actor: 'ci-payments',
    requestId: '7d0c6f1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f',
    config: EXAMPLE,
  },
  {
    revision: 17,
    type: 'ADDED',
    time: '2025-05-01T08:00:00.000Z',
    actor: 'api-token',
    requestId: 'deploy-2025-05-01',
    config: { ...EXAMPLE, metadata: { ...EXAMPLE.metadata, monitoring: { enabled: false } } },
  },
]

export const configHistory = defineRoute({
  method: 'GET',
  path: '/configs/:dcname/history',
  access: { action: 'history', dcname: { param: 'dcname' } },
  operationId: 'configHistory',
  summary: 'History of a config',
  description:
    'Every kept write of this config, newest first: who (`actor`), when, in which request (`requestId`, ' +
    'absent for writes no request made, such as the seed), and the config it left (for DELETED, the last ' +
    "state). A rollback's entry has `rollbackOf`: the revision whose state it restored. A deleted config keeps its history. Paged by " +
    '`limit` and `cursor`.',
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
      schema: t.Array(HistoryEntrySchema),
      example: HISTORY_EXAMPLE,
      headers: { Link: 'Present when older entries remain: `<...?cursor=...>; rel="next"`' },
    },
    ...problemResponses(400, 401, 403),
    404: { ...problemResponses(404)[404], description: 'No config of this name ever existed (or its history is gone)' },
    ...problemResponses(500, 503),
  },
})

export const rollbackConfig = defineRoute({
  method: 'POST',
  path: '/configs/:dcname/rollback',
  access: { action: 'rollback', dcname: { param: 'dcname' } },
  operationId: 'rollbackConfig',
  summary: 'Roll a config back to a revision',
  description:
    'Writes the state the config had at store revision `revision` again, as a new revision: a write ' +
    'like any other (kept in history, watched as MODIFIED, or ADDED when it re-creates a deleted config), ' +
    'whose history entry, watch event and audit line carry `rollbackOf`: the revision restored. ' +
    '`If-Match` is checked against the config as it is now. A revision the store has not reached yet is ' +
    '400, naming the current revision.',
  tags: TAGS,
  params: Params,
  query: { dryRun: DRY_RUN },
  headers: {
    'If-Match': {
      description: 'Roll back only if the stored revision is this one: `"<revision>"` (or `*`: it must exist)',
    },
  },
  body: {
    schema: t.Object(
      {
        revision: t.Integer({
          minimum: 1,
          maximum: MAX_REVISION,
          description: 'A store revision of this config',
          error: 'must be a positive whole number (a store revision)',
        }),
      },
      { additionalProperties: false },
    ),
    mediaTypes: ['application/json'],
    example: { revision: 17 },
  },
  responses: {
    200: { description: 'Rolled back', schema: ConfigSchema, example: EXAMPLE, headers: ETAG },
    201: {
      description: 'Rolled back a deleted config: it exists again',
      schema: ConfigSchema,
      example: EXAMPLE,
      headers: { ...ETAG, Location: 'URL of the re-created config' },
    },
    ...problemResponses(400, 401, 403),
    404: {
      ...problemResponses(404)[404],
      description: 'The config did not exist at this revision (not yet created, or deleted then)',
      example: problem(404, 'not-found', 'config "datacenter-1" did not exist at revision 3'),
    },
    ...REVISION_GONE,
    ...problemResponses(412, 413, 415, 422, 500, 503),
  },
})

export const HISTORY_CONTRACTS = [configHistory, rollbackConfig]
