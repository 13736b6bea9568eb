/**
 * The schema API's handlers, each registered with its contract (contracts.ts), which declares
 * its action for the access gate; handlers reach the schemas only through AuthorizedSchemas,
 * which authorizes again where the prefix is known.
 */
import { Elysia } from 'elysia'
import type { AuthorizedSchemas } from '../../configs/authorized-schemas.ts'
import { SchemaNotFoundError, type StoredSchema } from '../../configs/schema-model.ts'
import type { AccessGate } from '../auth.ts'
import { etag, writePrecondition } from '../conditional.ts'
import { routeHook } from '../contract.ts'
import { readJsonBody } from '../json-body.ts'
import type { RequestContext } from '../request-context.ts'
import { dryRunOf, flagOf, warningHeader } from '../schema-problems.ts'
import { deleteSchema, getSchema, listSchemas, putSchema, schemaViolations } from './contracts.ts'

export interface SchemaRoutesDeps {
  schemas: AuthorizedSchemas
  /** The app's access gate (the instance the app uses first, so it runs once). */
  gate: AccessGate
  maxBodyBytes: number
}

export function schemaRoutes({ schemas, gate, maxBodyBytes }: SchemaRoutesDeps) {
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
      async ({ requestContext }) => (await schemas.list(requestContext)).map(resourceOf),
      routeHook(listSchemas),
    )
    .get(
      getSchema.path,
      async ({ params, set, requestContext }) => {
        const stored = await schemas.get(requestContext, params.name)
        if (!stored) throw new SchemaNotFoundError(params.name)
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
        const { stored, created, violators } = await schemas.put(requestContext, definition, precondition, options)
        requestContext.revision = stored.revision
        if (violators.total > 0) {
          // Stored although configs break it (forced, or warn mode): say so, naming the first few.
          const named = violators.items.slice(0, 5).map((v) => v.dcname)
          const message = `${violators.total} config(s) break it: ${named.join(', ')}`
          requestContext.warning = warningHeader({
            schema: params.name,
            revision: stored.revision,
            violations: [{ pointer: '', keyword: 'violators', message }],
          })
          set.headers.warning = requestContext.warning
        }
        set.status = created ? 201 : 200
        set.headers.etag = etag(stored.revision)
        return resourceOf(stored)
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
      schemaViolations.path,
      ({ params, requestContext }) => schemas.violators(requestContext, params.name),
      routeHook(schemaViolations),
    )
}

function resourceOf(stored: StoredSchema) {
  return { ...stored.definition, revision: stored.revision }
}
