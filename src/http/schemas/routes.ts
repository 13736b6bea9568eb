/**
 * The schema API's handlers, each registered with its contract (contracts.ts). Reading schemas
 * is a read like any other; writing one asks to write at its prefix: an admin, or a writer whose
 * prefixes cover it (and, when it replaces or deletes a schema, the stored schema's prefix too).
 */
import { Elysia } from 'elysia'
import type { ConfigStore, WriteMeta } from '../../configs/config-store.ts'
import { SchemaNotFoundError, type StoredSchema } from '../../configs/schema-model.ts'
import type { accessGate, RequestAccess } from '../auth.ts'
import { etag, writePrecondition } from '../conditional.ts'
import { routeHook } from '../contract.ts'
import { badRequest } from '../problem.ts'
import { dryRunOf, warningHeader } from '../schema-problems.ts'
import { deleteSchema, getSchema, listSchemas, putSchema, schemaViolations } from './contracts.ts'

export function schemaRoutes(
  store: ConfigStore,
  gate: ReturnType<typeof accessGate>,
  requestIdOf: (request: Request) => string,
) {
  const meta = (request: Request, access: RequestAccess): WriteMeta => ({
    actor: access.actor,
    requestId: requestIdOf(request),
    dryRun: dryRunOf(request),
  })
  /** A caller may change a schema only where it may write configs: at the stored schema's prefix too. */
  const authorizeStored = async (name: string, access: RequestAccess) => {
    const current = await store.schemas.get(name)
    if (current) access.authorize('replace', current.definition.prefix)
    return current
  }

  return new Elysia({ name: 'schemas' })
    .use(gate)
    .get(listSchemas.path, async () => (await store.schemas.list()).map(resourceOf), routeHook(listSchemas))
    .get(
      getSchema.path,
      async ({ params, set }) => {
        const stored = await store.schemas.get(params.name)
        if (!stored) throw new SchemaNotFoundError(params.name)
        set.headers.etag = etag(stored.revision)
        return resourceOf(stored)
      },
      routeHook(getSchema),
    )
    .put(
      putSchema.path,
      async ({ params, body, request, set, access }) => {
        access.authorize('replace', body.prefix)
        await authorizeStored(params.name, access)
        const definition = { name: params.name, prefix: body.prefix, mode: body.mode, schema: body.schema }
        const precondition = writePrecondition(request.headers, true)
        const options = { force: flagOf(request, 'force') }
        const { stored, created, violators } = await store.schemas.put(
          definition,
          precondition,
          meta(request, access),
          options,
        )
        if (violators.total > 0) {
          const first = violators.items.map((v) => v.dcname).join(', ')
          set.headers.warning = warningHeader({
            schema: params.name,
            revision: stored.revision,
            violations: [{ pointer: '', keyword: 'violators', message: `${violators.total} (${first})` }],
          })
        }
        set.status = created ? 201 : 200
        set.headers.etag = etag(stored.revision)
        return resourceOf(stored)
      },
      routeHook(putSchema),
    )
    .delete(
      deleteSchema.path,
      async ({ params, request, access }) => {
        await authorizeStored(params.name, access)
        await store.schemas.delete(params.name, writePrecondition(request.headers, false), meta(request, access))
        return new Response(null, { status: 204 })
      },
      routeHook(deleteSchema),
    )
    .get(
      schemaViolations.path,
      async ({ params, access }) => {
        const report = await store.schemas.violators(params.name)
        if (access.prefixes === undefined) return report
        // Only what the caller may read: the others are neither named nor counted.
        const prefixes = access.prefixes
        const items = report.items.filter((v) => prefixes.some((prefix) => v.dcname.startsWith(prefix)))
        return { total: items.length, items }
      },
      routeHook(schemaViolations),
    )
}

function resourceOf(stored: StoredSchema) {
  return { ...stored.definition, revision: stored.revision }
}

function flagOf(request: Request, name: string): boolean {
  const value = new URL(request.url).searchParams.get(name)
  if (value === null || value === 'false') return false
  if (value === 'true') return true
  throw badRequest(`${name} takes true or false`)
}
