/**
 * The rollout API's contract, route by route (see ../contract.ts): a change taken to many
 * configs wave by wave, watched by gates, undone on failure (configs/rollouts/).
 */
import { t } from 'elysia'
import { DCNAME_PREFIX_PATTERN, DcName } from '../../configs/model.ts'
import { ROLLOUT_STATUSES } from '../../configs/rollouts/rollout-model.ts'
import { defineRoute } from '../contract.ts'
import { problemResponses } from '../openapi-docs.ts'

const TAGS = ['rollouts']
const JSON_BODY = ['application/json']
const Duration = t.String({ maxLength: 32, description: 'A duration: `500ms`, `30s`, `5m`, `1h`, `1m30s`' })
const Params = t.Object({ id: t.String({ pattern: '^[A-Za-z0-9-]{1,64}$', examples: ['ro-3f2a9c1e-7b4d'] }) })
const Status = t.UnionEnum(ROLLOUT_STATUSES, {
  description: '`applying` and `baking` are the running states; reverted, completed and aborted are final',
})
const Metadata = t.Record(t.String(), t.Any())

const Gate = t.Union([
  t.Object(
    { prometheus: t.String({ minLength: 1, maxLength: 4096, description: 'Fails while it returns any series' }) },
    { additionalProperties: false },
  ),
  t.Object(
    {
      consumers: t.Object(
        { applied: t.Number({ minimum: 0, maximum: 1 }), within: Duration },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
])

export const RolloutRequestSchema = t.Object(
  {
    change: t.Object(
      {
        merge: t.Optional(t.Record(t.String(), t.Any(), { description: 'A JSON Merge Patch of the metadata' })),
        metadata: t.Optional(t.Record(t.String(), t.Any(), { description: 'The whole metadata to set' })),
      },
      { additionalProperties: false },
    ),
    target: t.Object(
      {
        prefix: t.Optional(t.String({ pattern: DCNAME_PREFIX_PATTERN })),
        filters: t.Optional(
          t.Record(t.String(), t.String({ maxLength: 1024 }), {
            maxProperties: 32,
            description: '`dcname` or `metadata.<path>` to the value it must have, as the list filters',
          }),
        ),
        dcnames: t.Optional(t.Array(DcName, { minItems: 1, maxItems: 10_000 })),
      },
      { additionalProperties: false, description: 'The configs matching every criterion given' },
    ),
    waves: t.Array(
      t.Union([
        t.Object({ dcnames: t.Array(DcName, { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }),
        t.Object(
          { percent: t.Number({ exclusiveMinimum: 0, maximum: 100, description: 'Cumulative share of the target' }) },
          { additionalProperties: false },
        ),
      ]),
      { minItems: 1, maxItems: 100 },
    ),
    bake: Duration,
    gates: t.Optional(t.Array(Gate, { maxItems: 10 })),
    approval: t.Optional(
      t.Object(
        { required: t.Integer({ minimum: 0, maximum: 5, description: 'Approvals by actors other than the creator' }) },
        { additionalProperties: false },
      ),
    ),
    onFailure: t.Optional(t.Union([t.Literal('revert'), t.Literal('pause')], { default: 'revert' })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        change: { merge: { limits: { cpu: { value: '750m' } } } },
        target: { prefix: 'datacenter-' },
        waves: [{ percent: 10 }, { percent: 50 }, { percent: 100 }],
        bake: '10m',
        gates: [{ prometheus: 'sum(rate(http_errors_total[5m])) > 1' }],
        approval: { required: 1 },
        onFailure: 'revert',
      },
    ],
  },
)

const ConfigProgress = t.Object({
  dcname: t.String(),
  wave: t.Integer({ description: '0-based' }),
  state: t.Union([t.Literal('pending'), t.Literal('applied'), t.Literal('reverted'), t.Literal('kept')]),
  before: t.Optional(t.Integer({ description: 'The pre-rollout revision (seen when its wave started)' })),
  applied: t.Optional(t.Integer({ description: 'The revision the rollout wrote' })),
  reverted: t.Optional(t.Integer({ description: 'The revision of the write that restored `before`' })),
})

const TimelineEntry = t.Object({
  seq: t.Optional(
    t.Integer({
      description: "The entry's place in the rollout event log: watch after it with `since` (0: saved before the log)",
    }),
  ),
  time: t.String({ format: 'date-time' }),
  event: t.String(),
  wave: t.Optional(t.Integer()),
  dcname: t.Optional(t.String()),
  detail: t.Optional(t.String()),
})

const RolloutSummary = {
  id: t.String(),
  status: Status,
  wave: t.Integer({ description: 'The wave applied or baked now, 0-based; -1 before the first' }),
  waves: t.Integer({ description: 'How many waves' }),
  createdBy: t.String(),
  createdAt: t.String({ format: 'date-time' }),
  approvedBy: t.Array(t.String()),
  bakeUntil: t.Optional(t.String({ format: 'date-time' })),
  reason: t.Optional(t.String({ description: 'Why it paused, reverted or stopped' })),
  counts: t.Object({ pending: t.Integer(), applied: t.Integer(), reverted: t.Integer(), kept: t.Integer() }),
  change: t.Union([t.Object({ merge: Metadata }), t.Object({ metadata: Metadata })], {
    description: 'The change: a JSON Merge Patch of the metadata, or the whole metadata to set',
  }),
  target: t.Object(
    {
      prefix: t.Optional(t.String()),
      filters: t.Optional(t.Array(t.Object({ path: t.Array(t.String()), value: t.String() }))),
      named: t.Optional(t.Integer({ description: 'How many dcnames the target names (`plan.target.dcnames`)' })),
    },
    { description: 'What the rollout targets, as the request said it (the configs it resolved to are in `configs`)' },
  ),
}

export const RolloutSummarySchema = t.Object(RolloutSummary)

export const RolloutSchema = t.Object({
  ...RolloutSummary,
  plan: t.Object({
    change: t.Union([t.Object({ merge: Metadata }), t.Object({ metadata: Metadata })]),
    target: t.Record(t.String(), t.Any()),
    waves: t.Array(t.Array(t.String()), { description: 'The dcnames of each wave' }),
    bakeMs: t.Integer(),
    gates: t.Array(t.Record(t.String(), t.Any())),
    approvals: t.Integer(),
    onFailure: t.Union([t.Literal('revert'), t.Literal('pause')]),
  }),
  configs: t.Array(ConfigProgress),
  timeline: t.Array(TimelineEntry),
})

export const createRollout = defineRoute({
  method: 'POST',
  path: '/rollouts',
  operationId: 'createRollout',
  access: { action: 'write-rollout' },
  summary: 'Start a rollout',
  description:
    'Resolves the target now (within your prefixes), checks the change against every targeted config, ' +
    'and stores the rollout; the service then applies it wave by wave, baking each wave while its gates ' +
    'are evaluated. With `approval.required`, it waits for that many approvals by other actors first.',
  tags: TAGS,
  body: { schema: RolloutRequestSchema, mediaTypes: JSON_BODY },
  responses: {
    201: { description: 'Stored; the driver starts it', schema: RolloutSchema, headers: { Location: 'The rollout' } },
    ...problemResponses(400, 401, 403, 413, 415, 422, 500, 503),
  },
})

export const listRollouts = defineRoute({
  method: 'GET',
  path: '/rollouts',
  operationId: 'listRollouts',
  access: { action: 'read-rollouts' },
  summary: 'List or watch rollouts, newest first',
  description:
    'The rollouts the caller may read, newest first, each with its change and target. With ' +
    '`watch=true` (and optionally `since=<revision>` or a `Last-Event-ID` header), a ' +
    '`text/event-stream` of their events instead: one per timeline entry (created, approved, ' +
    'wave-started, wave-applied, wave-baked, gate-failed, paused, resumed, reverting, reverted, ' +
    "completed, aborted), named by it, with the rollout's id, status and wave. Its `id` is the " +
    "entry's place in the rollout event log (`seq` in a rollout's timeline): `since` replays the " +
    'events after it first (410 when the log no longer keeps them all, see `ROLLOUT_EVENTS_KEPT`).',
  tags: TAGS,
  query: {
    watch: { description: 'Stream rollout events as server-sent events', schema: { type: 'boolean' } },
    since: {
      description: 'With `watch=true`: replay the rollout events after this one first',
      schema: { type: 'integer', minimum: 0 },
    },
    status: { description: 'Only rollouts in this status' },
    limit: { description: 'At most this many (1-1000, default 100)', schema: { type: 'integer' } },
    before: { description: 'Only rollouts created before this one (paging)' },
  },
  headers: { 'Last-Event-ID': { description: 'As `since`, sent by reconnecting EventSources' } },
  responses: {
    200: {
      description: 'A page (or, with `watch=true`, the event stream)',
      schema: t.Object({ items: t.Array(RolloutSummarySchema), more: t.Boolean() }),
      headers: { 'X-Revision': 'The newest rollout event before the page was read: watch from it with `since`' },
      alternatives: {
        'text/event-stream': {
          schema: { type: 'string' },
          example:
            'event: wave-started\nid: 7\ndata: {"type":"wave-started","revision":7,"id":"ro-3f2a9c1e-7b4d",' +
            '"status":"applying","wave":1,"time":"2026-01-01T00:00:00.000Z","entryWave":1}\n\n',
        },
      },
    },
    ...problemResponses(400, 401, 403, 410, 500, 503),
  },
})

export const getRollout = defineRoute({
  method: 'GET',
  path: '/rollouts/:id',
  operationId: 'getRollout',
  access: { action: 'read-rollouts' },
  summary: 'A rollout, with the state of each of its configs and its timeline',
  tags: TAGS,
  params: Params,
  responses: {
    200: { description: 'The rollout', schema: RolloutSchema },
    ...problemResponses(400, 401, 403, 404, 500, 503),
  },
})

function steering<const Verb extends 'pause' | 'resume' | 'abort' | 'approve'>(
  verb: Verb,
  summary: string,
  description: string,
) {
  return defineRoute({
    method: 'POST',
    path: `/rollouts/:id/${verb}` as `/rollouts/:id/${Verb}`,
    operationId: `${verb}Rollout`,
    access: { action: 'write-rollout' },
    summary,
    description,
    tags: TAGS,
    params: Params,
    responses: {
      200: { description: 'The rollout as it is now', schema: RolloutSchema },
      ...problemResponses(400, 401, 403, 404, 409, 500, 503),
    },
  })
}

export const pauseRollout = steering('pause', 'Pause a rollout', 'It stops after the step it is taking.')
export const resumeRollout = steering(
  'resume',
  'Resume a paused rollout',
  'From where it paused; a bake starts again. A config whose edit paused it is re-read (applying) or left as edited (reverting).',
)
export const abortRollout = steering(
  'abort',
  'Abort a rollout',
  'Reverts every config it changed to its pre-rollout revision, then ends as `aborted`.',
)
export const approveRollout = steering(
  'approve',
  'Approve a rollout',
  'By an actor other than its creator (four eyes), once each.',
)

export const ROLLOUT_CONTRACTS = [
  createRollout,
  listRollouts,
  getRollout,
  pauseRollout,
  resumeRollout,
  abortRollout,
  approveRollout,
]
