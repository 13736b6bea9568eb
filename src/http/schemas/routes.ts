/**
 * The schema API's handlers, each registered with its contract (contracts.ts), which declares
 * its action for the access gate; handlers reach the schemas only through AuthorizedSchemas,
 * which authorizes again where the prefix is known.
 */
import { Elysia } from 'elysia'
import type { AuthorizedSchemas } from '../../configs/authorized-schemas.ts'
import { isObject } from '../../configs/model.ts'
import { SchemaNotFoundError, type SchemaPutResult, type StoredSchema } from '../../configs/schema-model.ts'
import type { AccessGate } from '../auth.ts'
import { etag, writePrecondition } from '../conditional.ts'
import { routeHook } from '../contract.ts'
import { encodeHistoryCursor, parseHistoryQuery, revisionParameter } from '../history-query.ts'
import { readJsonBody } from '../json-body.ts'
import { badRequest } from '../problem.ts'
import type { RequestContext } from '../request-context.ts'
import { dryRunOf, flagOf, warningHeader } from '../schema-problems.ts'
import type { WatchHub } from '../watch/watch-hub.ts'
import { wantsWatch, watchSince } from '../watch/watch-query.ts'
import { deleteSchema, getSchema, listSchemas, putSchema, schemaViolations } from './contracts.ts'
import { rollbackSchema, schemaHistory } from './history-contracts.ts'

/** A rollback names its revision as a JSON number, not as text the validator would coerce. */
function guardRollback({ body }: { body: unknown }) {
  if (isObject(body) && typeof body.revision === 'string') {
    throw badRequest('the body is not a valid rollback request', [
      { pointer: '/revision', message: 'must be a positive whole number (a store revision), not a string' },
    ])
  }
}

export interface SchemaRoutesDeps {
  schemas: AuthorizedSchemas
  /** Watch streams: schema watches are counted, bounded and ended on shutdown with the config ones. */
  watch: WatchHub
  /** The app's access gate (the instance the app uses first, so it runs once). */
  gate: AccessGate
  maxBodyBytes: number
}

export function schemaRoutes({ schemas, watch, gate, maxBodyBytes }: SchemaRoutesDeps) {
  type Routed = { requestContext: RequestContext }
  /** Read after the gate decided, as config bodies are (see configs/routes.ts). */
  const readBody = async (context: Routed & { request: Request; body: unknown }) => {
    context.body = await readJsonBody(context.request, maxBodyBytes)
  }
  const noteWrite = ({ requestContext }: Routed) => {
    requestContext.dryRun = dryRunOf(requestContext.query)
    requestContext.force = flagOf(requestContext.query, 'force')
  }

  return new Elysia({ name: 'schemas' })
    .use(gate)
    .get(
      listSchemas.path,
      async ({ request, requestContext }) => {
        const params = new URLSearchParams(requestContext.query)
        if (wantsWatch(params)) {
          for (const key of params.keys()) {
            if (key !== 'watch' && key !== 'since') throw badRequest(`a schema watch takes since, not ${key}`)
          }
          const since = watchSince(params, request.headers)
          return watch.openSchemas(schemas.watch(requestContext), since, request, request.method === 'HEAD')
        }
        const { schemas: all, revision } = await schemas.list(requestContext)
        const headers = { 'content-type': 'application/json', 'x-revision': String(revision) }
        return new Response(JSON.stringify(all.map(resourceOf)), { headers })
      },
      routeHook(listSchemas),
    )
    .get(
      getSchema.path,
      async ({ params, set, requestContext }) => {
        const query = requestContext.query
        const revision = query === '' ? undefined : revisionParameter(new URLSearchParams(query))
        const stored =
          revision === undefined
            ? await schemas.get(requestContext, params.name)
            : await schemas.getAt(requestContext, params.name, revision)
        if (!stored) throw new SchemaNotFoundError(params.name, revision)
        set.headers.etag = etag(stored.revision)
        return resourceOf(stored)
      },
      routeHook(getSchema),
    )
    .put(
      putSchema.path,
      async ({ params, body, request, set, requestContext }) => {
        const definition = { name: params.name, prefix: body.prefix, mode: body.mode, schema: body.schema }
        const precondition = writePrecondition(request.headers, true)
        const options = { force: requestContext.force }
        return written(await schemas.put(requestContext, definition, precondition, options), requestContext, set)
      },
      { ...routeHook(putSchema), transform: [noteWrite, readBody] },
    )
    .delete(
      deleteSchema.path,
      async ({ params, request, requestContext }) => {
        const precondition = writePrecondition(request.headers, false)
        requestContext.revision = await schemas.delete(requestContext, params.name, precondition)
        return new Response(null, { status: 204 })
      },
      { ...routeHook(deleteSchema), transform: noteWrite },
    )
    .get(
      schemaHistory.path,
      async ({ params, set, requestContext }) => {
        const query = new URLSearchParams(requestContext.query)
        const page = await schemas.history(requestContext, params.name, parseHistoryQuery(query))
        const last = page.entries.at(-1)
        if (page.more && last) {
          const next = new URLSearchParams(query)
          next.set('cursor', encodeHistoryCursor(last.revision))
          set.headers.link = `<${requestContext.path}?${next}>; rel="next"`
        }
        return page.entries.map(({ definition, ...entry }) => ({ ...entry, schema: definition }))
      },
      routeHook(schemaHistory),
    )
    .post(
      rollbackSchema.path,
      async ({ params, body, request, set, requestContext }) => {
        requestContext.rollbackOf = body.revision
        const precondition = writePrecondition(request.headers, false)
        const options = { force: requestContext.force }
        const result = await schemas.rollback(requestContext, params.name, body.revision, precondition, options)
        return written(result, requestContext, set)
      },
      { ...routeHook(rollbackSchema), transform: [noteWrite, readBody, guardRollback] },
    )
    .get(
      schemaViolations.path,
      ({ params, requestContext }) => schemas.violators(requestContext, params.name),
      routeHook(schemaViolations),
    )
}

/** The answer of a schema write: its state, with a Warning when configs break it. */
function written(
  { stored, created, violators }: SchemaPutResult,
  requestContext: RequestContext,
  set: { status?: number | string; headers: Record<string, unknown> },
) {
  requestContext.revision = stored.revision
  if (violators.total > 0) {
    // Stored although configs break it (forced, or warn mode): say so, naming the first few.
    const named = violators.items.slice(0, 5).map((v) => v.dcname)
    const message = `${violators.total} config(s) break it: ${named.join(', ')}`
    requestContext.warning = warningHeader({
      schema: stored.definition.name,
      revision: stored.revision,
      violations: [{ pointer: '', keyword: 'violators', message }],
    })
    set.headers.warning = requestContext.warning
  }
  set.status = created ? 201 : 200
  set.headers.etag = etag(stored.revision)
  return resourceOf(stored)
}

function resourceOf(stored: StoredSchema) {
  return { ...stored.definition, revision: stored.revision }
}
