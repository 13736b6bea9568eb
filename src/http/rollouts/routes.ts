/**
 * The rollout API's handlers, each registered with its contract (contracts.ts); they reach
 * rollouts only through AuthorizedRollouts, which authorizes again where the configs are known.
 */
import { Elysia } from 'elysia'
import type { AuthorizedRollouts } from '../../configs/rollouts/authorized-rollouts.ts'
import { ROLLOUT_STATUSES, type Rollout, type RolloutStatus } from '../../configs/rollouts/rollout-model.ts'
import type { StoredRollout } from '../../configs/rollouts/rollout-store.ts'
import type { AccessGate } from '../auth.ts'
import { routeHook } from '../contract.ts'
import { readJsonBody } from '../json-body.ts'
import { badRequest, ProblemError } from '../problem.ts'
import type { RequestContext } from '../request-context.ts'
import type { WatchHub } from '../watch/watch-hub.ts'
import { wantsWatch, watchSince } from '../watch/watch-query.ts'
import {
  abortRollout,
  approveRollout,
  createRollout,
  getRollout,
  listRollouts,
  pauseRollout,
  resumeRollout,
} from './contracts.ts'

export interface RolloutRoutesDeps {
  /** Undefined when the app was built without rollouts (tests of other parts): 503. */
  rollouts: AuthorizedRollouts | undefined
  gate: AccessGate
  maxBodyBytes: number
  /** Watch streams: rollout watches are counted, bounded and ended on shutdown with the others. */
  watch: WatchHub
}

export function rolloutRoutes({ rollouts: maybe, gate, maxBodyBytes, watch }: RolloutRoutesDeps) {
  type Routed = { requestContext: RequestContext }
  const readBody = async (context: Routed & { request: Request; body: unknown }) => {
    context.body = await readJsonBody(context.request, maxBodyBytes)
  }
  const rollouts = (): AuthorizedRollouts => {
    if (!maybe) throw new ProblemError(503, 'rollouts-unavailable', 'this service runs no rollouts')
    return maybe
  }
  const steer =
    (verb: 'pause' | 'resume' | 'abort' | 'approve') => async (context: Routed & { params: { id: string } }) => {
      context.requestContext.rollout = context.params.id
      return resourceOf(await rollouts()[verb](context.requestContext, context.params.id))
    }

  return new Elysia({ name: 'rollouts' })
    .use(gate)
    .post(
      createRollout.path,
      async ({ body, set, requestContext }) => {
        const stored = await rollouts().create(requestContext, body)
        requestContext.rollout = stored.rollout.id
        set.status = 201
        set.headers.location = `/rollouts/${stored.rollout.id}`
        return resourceOf(stored)
      },
      { ...routeHook(createRollout), transform: readBody },
    )
    .get(
      listRollouts.path,
      async ({ request, requestContext }) => {
        const params = new URLSearchParams(requestContext.query)
        if (wantsWatch(params)) {
          for (const key of params.keys()) {
            if (key !== 'watch' && key !== 'since') throw badRequest(`a rollout watch takes since, not ${key}`)
          }
          const since = watchSince(params, request.headers)
          return watch.openRollouts(rollouts().watch(requestContext), since, request, request.method === 'HEAD')
        }
        const page = await rollouts().list(requestContext, listQueryOf(requestContext.query))
        const body = JSON.stringify({ items: page.items.map(summaryOf), more: page.more })
        const headers = { 'content-type': 'application/json', 'x-revision': String(page.revision) }
        return new Response(body, { headers })
      },
      routeHook(listRollouts),
    )
    .get(
      getRollout.path,
      async ({ params, requestContext }) => resourceOf(await rollouts().get(requestContext, params.id)),
      routeHook(getRollout),
    )
    .post(pauseRollout.path, steer('pause'), routeHook(pauseRollout))
    .post(resumeRollout.path, steer('resume'), routeHook(resumeRollout))
    .post(abortRollout.path, steer('abort'), routeHook(abortRollout))
    .post(approveRollout.path, steer('approve'), routeHook(approveRollout))
}

function listQueryOf(query: string): { limit: number; before?: string; status?: RolloutStatus } {
  const params = new URLSearchParams(query)
  for (const key of params.keys()) {
    if (key !== 'limit' && key !== 'before' && key !== 'status' && key !== 'watch')
      throw badRequest(`unknown query parameter ${JSON.stringify(key)}`)
  }
  const limitText = params.get('limit')
  const limit = limitText === null ? 100 : Number(limitText)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badRequest('limit must be an integer from 1 to 1000')
  const status = params.get('status') ?? undefined
  if (status !== undefined && !(ROLLOUT_STATUSES as readonly string[]).includes(status)) {
    throw badRequest(`status must be one of ${ROLLOUT_STATUSES.join(', ')}`)
  }
  const before = params.get('before') ?? undefined
  return {
    limit,
    ...(before === undefined ? {} : { before }),
    ...(status === undefined ? {} : { status: status as RolloutStatus }),
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

function summaryOf({ rollout }: StoredRollout) {
  const counts = { pending: 0, applied: 0, reverted: 0, kept: 0 }
  for (const c of rollout.configs) counts[c.state]++
  return {
    id: rollout.id,
    status: rollout.status,
    wave: rollout.wave,
    waves: rollout.plan.waves.length,
    createdBy: rollout.createdBy.actor,
    createdAt: iso(rollout.createdAt),
    approvedBy: rollout.approvedBy,
    ...(rollout.bakeUntil === undefined ? {} : { bakeUntil: iso(rollout.bakeUntil) }),
    ...(rollout.reason === undefined ? {} : { reason: rollout.reason }),
    counts,
    change: rollout.plan.change,
    target: targetSummaryOf(rollout.plan.target),
  }
}

/** The target as asked, with the names it lists counted: a list of summaries stays small. */
function targetSummaryOf({ prefix, filters, dcnames }: Rollout['plan']['target']) {
  return {
    ...(prefix === undefined ? {} : { prefix }),
    ...(filters === undefined ? {} : { filters }),
    ...(dcnames === undefined ? {} : { named: dcnames.length }),
  }
}

function resourceOf(stored: StoredRollout) {
  const rollout: Rollout = stored.rollout
  const { target, ...plan } = rollout.plan
  return {
    ...summaryOf(stored),
    plan: { ...plan, target: { ...target } },
    configs: rollout.configs,
    timeline: rollout.timeline.map((entry) => ({ ...entry, time: iso(entry.time) })),
  }
}
