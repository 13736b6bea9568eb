/**
 * The config API's handlers, each registered with its contract (contracts.ts), which validates
 * and types it. Handlers parse, call the store, and map the outcome to a status; errors are
 * thrown as typed errors and mapped to problem+json in one place (http/errors).
 *
 * Access: the gate (../auth.ts) has already refused what the method and a `:dcname` in the URL
 * tell; here lists, searches and watches are narrowed to the caller's prefixes in the store
 * query (so pages stay full), and POST checks the dcname its body names.
 */
import { Elysia, getSchemaValidator } from 'elysia'
import { narrowPrefixes } from '../../configs/access.ts'
import { type ConfigStore, NotFoundError, type StoredConfig, type WriteMeta } from '../../configs/config-store.ts'
import { applyMergePatch } from '../../configs/merge-patch.ts'
import {
  type Config,
  ConfigSchema,
  type FieldError,
  isObject,
  normalizeConfig,
  structuralErrors,
} from '../../configs/model.ts'
import type { accessGate, RequestAccess } from '../auth.ts'
import { etag, noneMatch, writePrecondition } from '../conditional.ts'
import { routeHook } from '../contract.ts'
import { fieldErrors } from '../errors.ts'
import { encodeHistoryCursor, parseHistoryQuery, revisionParameter } from '../history-query.ts'
import { encodeCursor, parseListQuery } from '../list-query.ts'
import { badRequest, ProblemError } from '../problem.ts'
import type { WatchHub } from '../watch/watch-hub.ts'
import { parseWatchRequest, wantsWatch } from '../watch/watch-query.ts'
import { recordDeletion } from './audit.ts'
import {
  createConfig,
  deleteConfig,
  getConfig,
  listConfigs,
  patchConfig,
  replaceConfig,
  searchConfigs,
} from './contracts.ts'
import { configHistory, rollbackConfig } from './history-contracts.ts'

const configValidator = getSchemaValidator(ConfigSchema, { normalize: false, additionalProperties: false })

/** Refuses prototype keys and deep nesting before the schema validator walks the body. */
function guardStructure({ body }: { body: unknown }) {
  const errors = structuralErrors(body)
  if (errors.length > 0) throw badRequest('the body has refused keys or is nested too deeply', errors)
}

/**
 * A rollback names its revision as a JSON number. The validator would take the string "7" for
 * the number 7 (it coerces numeric strings); a revision sent as text is refused instead.
 */
function guardRollback({ body }: { body: unknown }) {
  guardStructure({ body })
  const revision = isObject(body) ? body.revision : undefined
  if (typeof revision === 'string') {
    throw badRequest('the body is not a valid rollback request', [
      { pointer: '/revision', message: 'must be a positive whole number (a store revision), not a string' },
    ])
  }
}

/**
 * `gate`: the app's access gate (the same instance, used first by the app, so it runs once); it
 * gives the handlers their `access`.
 */
export function configRoutes(
  store: ConfigStore,
  watch: WatchHub,
  gate: ReturnType<typeof accessGate>,
  requestIdOf: (request: Request) => string,
) {
  // Handlers name the context fields they read, never hand the context on whole: Elysia reads
  // from a handler's source which fields to build, and a context passed to a function makes it
  // build all of them (headers as an object, cookies, the query) for every request.
  type ListContext = { request: Request; access: RequestAccess }
  /** `ignore`: parameters already handled (a `watch=false` on GET /configs asks for a plain list). */
  const list = async ({ request, access }: ListContext, ignore: readonly string[] = []) => {
    const url = new URL(request.url)
    const { prefix, ...query } = parseListQuery(url.searchParams, ignore)
    const page = await store.list({ ...query, prefixes: narrowPrefixes(access.prefixes, prefix) })
    const headers: Record<string, string> = { 'x-revision': String(page.revision) }
    const last = page.items.at(-1)
    if (page.more && last) {
      const next = new URLSearchParams(url.searchParams)
      next.set('cursor', encodeCursor(last.config.dcname))
      headers.link = `<${url.pathname}?${next}>; rel="next"`
    }
    // The page's bytes or the stored JSON text as they are, when the store holds them (the read model does).
    return jsonResponse(page.body ?? `[${page.items.map(jsonOf).join(',')}]`, headers)
  }

  return new Elysia({ name: 'configs' })
    .use(gate)
    .get(
      listConfigs.path,
      ({ request, access }) => {
        const params = new URL(request.url).searchParams
        if (!wantsWatch(params)) return list({ request, access }, ['watch'])
        const asked = parseWatchRequest(params, request.headers)
        const watchRequest = { ...asked, prefixes: narrowPrefixes(access.prefixes, asked.prefix) }
        return watch.open(watchRequest, request, request.method === 'HEAD')
      },
      routeHook(listConfigs),
    )
    .get(searchConfigs.path, ({ request, access }) => list({ request, access }), routeHook(searchConfigs))
    .post(
      createConfig.path,
      async ({ body, request, set, access }) => {
        // The name is in the body, which the gate (before the body is read) could not see.
        access.authorize('create', (body as Config).dcname)
        const stored = await store.create(normalizeConfig(body as Config), writeMeta(request, access, requestIdOf))
        set.status = 201
        set.headers.etag = etag(stored.revision)
        set.headers.location = `/configs/${encodeURIComponent(stored.config.dcname)}`
        return stored.config
      },
      { ...routeHook(createConfig), transform: guardStructure },
    )
    .get(
      getConfig.path,
      async ({ params, request }) => {
        // Most reads have no query string: they skip parsing one.
        const query = request.url.indexOf('?')
        const revision = query === -1 ? undefined : revisionParameter(new URLSearchParams(request.url.slice(query + 1)))
        const stored =
          revision === undefined ? await store.get(params.dcname) : await store.getAt(params.dcname, revision)
        if (!stored) throw revision === undefined ? notFound(params.dcname) : new NotFoundError(params.dcname, revision)
        const tag = etag(stored.revision)
        if (!noneMatch(request.headers.get('if-none-match'), stored.revision)) {
          return new Response(null, { status: 304, headers: { etag: tag } })
        }
        return jsonResponse(jsonOf(stored), { etag: tag })
      },
      routeHook(getConfig),
    )
    .put(
      replaceConfig.path,
      async ({ params, body, request, set, access }) => {
        if (body.dcname !== undefined && body.dcname !== params.dcname) {
          throw badRequest('the dcname in the body differs from the one in the URL', [
            { pointer: '/dcname', message: `must be ${JSON.stringify(params.dcname)} or left out` },
          ])
        }
        const precondition = writePrecondition(request.headers, true)
        const config = normalizeConfig({ dcname: params.dcname, metadata: body.metadata })
        const { stored, created } = await store.replace(config, precondition, writeMeta(request, access, requestIdOf))
        set.status = created ? 201 : 200
        set.headers.etag = etag(stored.revision)
        if (created) set.headers.location = `/configs/${encodeURIComponent(stored.config.dcname)}`
        return stored.config
      },
      { ...routeHook(replaceConfig), transform: guardStructure },
    )
    .patch(
      patchConfig.path,
      async ({ params, body, request, set, access }) => {
        if (body.dcname !== undefined && body.dcname !== params.dcname) {
          throw badRequest('PATCH cannot change the dcname', [{ pointer: '/dcname', message: 'is immutable' }])
        }
        const precondition = writePrecondition(request.headers, false)
        const stored = await store.update(
          params.dcname,
          (current) => mergeConfig(current, body),
          precondition,
          writeMeta(request, access, requestIdOf),
        )
        set.headers.etag = etag(stored.revision)
        return stored.config
      },
      { ...routeHook(patchConfig), transform: guardStructure },
    )
    .delete(
      deleteConfig.path,
      async ({ params, request, set, access }) => {
        const revision = await store.delete(
          params.dcname,
          writePrecondition(request.headers, false),
          writeMeta(request, access, requestIdOf),
        )
        recordDeletion(request, revision)
        set.status = 204
        return new Response(null, { status: 204 })
      },
      routeHook(deleteConfig),
    )
    .get(
      configHistory.path,
      async ({ params, request, set }) => {
        const url = new URL(request.url)
        const page = await store.history(params.dcname, parseHistoryQuery(url.searchParams))
        const last = page.entries.at(-1)
        if (page.more && last) {
          const next = new URLSearchParams(url.searchParams)
          next.set('cursor', encodeHistoryCursor(last.revision))
          set.headers.link = `<${url.pathname}?${next}>; rel="next"`
        }
        return page.entries
      },
      routeHook(configHistory),
    )
    .post(
      rollbackConfig.path,
      async ({ params, body, request, set, access }) => {
        const precondition = writePrecondition(request.headers, false)
        const meta = writeMeta(request, access, requestIdOf)
        const { stored, created } = await store.rollback(params.dcname, body.revision, precondition, meta)
        set.status = created ? 201 : 200
        set.headers.etag = etag(stored.revision)
        if (created) set.headers.location = `/configs/${encodeURIComponent(stored.config.dcname)}`
        return stored.config
      },
      { ...routeHook(rollbackConfig), transform: guardRollback },
    )
}

function jsonOf(stored: StoredConfig): string {
  return stored.json ?? JSON.stringify(stored.config)
}

/**
 * JSON text or bytes answered as they are (the contract's schema types what they hold), with the
 * route's headers (ETag, X-Revision, Link) in the Response itself: headers left in `set.headers`
 * make Elysia copy a returned Response into a new one to add them, on every read.
 */
function jsonResponse(body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string>): Response {
  headers['content-type'] = 'application/json'
  return new Response(body, { headers })
}

/** The merged result must be a valid config, exactly as if it had been PUT. */
function mergeConfig(current: Config, patch: unknown): Config {
  const merged = applyMergePatch(current, patch)
  const errors: FieldError[] = isObject(merged) ? structuralErrors(merged) : []
  if (errors.length === 0 && !configValidator?.Check(merged)) {
    errors.push(...fieldErrors(configValidator?.Errors(merged) ?? []))
  }
  if (errors.length > 0) throw badRequest('the patched config would not be valid', errors)
  return normalizeConfig(merged as Config)
}

/**
 * Who wrote, for the write's history entry: the actor access control names, and the request id
 * the response and the access line carry (the caller's, or the one made for this request).
 */
function writeMeta(
  request: Request,
  access: Pick<RequestAccess, 'actor'>,
  requestIdOf: (request: Request) => string,
): WriteMeta {
  return { actor: access.actor, requestId: requestIdOf(request) }
}

function notFound(dcname: string) {
  return new ProblemError(404, 'not-found', `config ${JSON.stringify(dcname)} does not exist`)
}
