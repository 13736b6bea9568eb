/**
 * The consumer API's contract (see ../contract.ts): programs that apply a config report what
 * they did with each revision, and anyone who may read the config lists those reports.
 */
import { t } from 'elysia'
import { ConsumerName, MAX_CONSUMER_MESSAGE } from '../../configs/consumers.ts'
import { DcName } from '../../configs/model.ts'
import { defineRoute } from '../contract.ts'
import { problemResponses } from '../openapi-docs.ts'

const TAGS = ['consumers']
/** A report is a few small fields: its body is bounded far below MAX_BODY_BYTES. */
export const MAX_REPORT_BYTES = 4096

const State = t.Union([t.Literal('applied'), t.Literal('rejected')], {
  description: '`applied`: the consumer runs with this revision; `rejected`: it refused it (its check failed)',
})

export const ReportBody = t.Object(
  {
    revision: t.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The revision of the config' }),
    state: State,
    message: t.Optional(
      t.String({ maxLength: MAX_CONSUMER_MESSAGE, description: 'Why it was rejected (a check’s output), or a note' }),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ revision: 57, state: 'rejected', message: 'nginx: [emerg] unknown directive "listn"' }],
  },
)

export const ConsumerResource = t.Object(
  {
    consumer: ConsumerName,
    revision: t.Integer({ minimum: 1 }),
    state: State,
    status: t.Union([t.Literal('applied'), t.Literal('rejected'), t.Literal('expired')], {
      description: 'What the report counts as now: its state, or `expired` once its TTL passed without another',
    }),
    message: t.String(),
    reportedAt: t.String({ format: 'date-time', description: 'When the last report arrived (RFC 3339, UTC)' }),
    expiresAt: t.String({ format: 'date-time', description: 'When it expires (or expired) without another' }),
  },
  { additionalProperties: false },
)

const Params = t.Object({ dcname: DcName })
const ReportParams = t.Object({ dcname: DcName, consumer: ConsumerName })

export const listConsumers = defineRoute({
  method: 'GET',
  path: '/configs/:dcname/consumers',
  operationId: 'listConsumers',
  access: { action: 'get', dcname: { param: 'dcname' } },
  summary: 'The consumers of a config and what each last reported',
  description:
    'Reports expired for more than one TTL (CONSUMERS_TTL_MS) are no longer listed. Every replica answers the same.',
  tags: TAGS,
  params: Params,
  responses: {
    200: { description: 'The reports, by consumer name', schema: t.Array(ConsumerResource) },
    ...problemResponses(400, 401, 403, 404, 500, 503),
  },
})

export const reportConsumer = defineRoute({
  method: 'PUT',
  path: '/configs/:dcname/consumers/:consumer',
  operationId: 'reportConsumer',
  access: { action: 'report', dcname: { param: 'dcname' } },
  summary: 'Report what a consumer did with a revision of a config (also its heartbeat)',
  description:
    'Replaces the consumer’s report; send it again before CONSUMERS_TTL_MS passes to stay live. Any role ' +
    'may report (not an anonymous caller of a protected service). Reports are not audited. 409 when the ' +
    'config already has CONSUMERS_MAX_PER_CONFIG live consumers; 422 for a revision the config never reached.',
  tags: TAGS,
  params: ReportParams,
  body: { schema: ReportBody, mediaTypes: ['application/json'] },
  responses: {
    200: { description: 'Stored (every replica lists it from now on)', schema: ConsumerResource },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 500, 503),
  },
})

export const CONSUMER_CONTRACTS = [listConsumers, reportConsumer]
