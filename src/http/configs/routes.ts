/**
 * The config API's handlers, each registered with its contract (contracts.ts), which validates
 * and types it. Handlers parse, call the configs, and map the outcome to a status; errors are
 * thrown as typed errors and mapped to problem+json in one place (http/errors).
 *
 * Access: the gate (../auth.ts) has already refused what the route's action and the `:dcname`
 * of its path tell. Handlers reach the store only through AuthorizedConfigs, with the request's
 * context as the caller: it authorizes again, narrows lists, searches and watches to the
 * caller's prefixes in the store query (so pages stay full), and checks the dcname a create's
 * body names. A write notes the revision it made in the context, for the audit line.
 */
import { Elysia, getSchemaValidator } from 'elysia'
import type { AuthorizedConfigs } from '../../configs/authorized-configs.ts'
import { NotFoundError, type StoredConfig } from '../../configs/config-store.ts'
import { applyMergePatch } from '../../configs/merge-patch.ts'
import {
  type Config,
  ConfigSchema,
  type FieldError,
  isObject,
  normalizeConfig,
  structuralErrors,
} from '../../configs/model.ts'
import { type AnswerBody, answerBody } from '../answer-body.ts'
import type { AccessGate } from '../auth.ts'
import { etag, noneMatch, writePrecondition } from '../conditional.ts'
import { routeHook } from '../contract.ts'
import { fieldErrors } from '../errors.ts'
import { encodeHistoryCursor, parseHistoryQuery, revisionParameter } from '../history-query.ts'
import { readJsonBody } from '../json-body.ts'
import { encodeCursor, parseListQuery } from '../list-query.ts'
import { badRequest, ProblemError } from '../problem.ts'
import type { RequestContext } from '../request-context.ts'
import { dryRunOf, warningHeader } from '../schema-problems.ts'
import type { WatchHub } from '../watch/watch-hub.ts'
import { parseWatchRequest, wantsWatch } from '../watch/watch-query.ts'
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

export interface ConfigRoutesDeps {
  /** The configs as each caller may see and change them: the handlers' only way to the store. */
  configs: AuthorizedConfigs
  watch: WatchHub
  /** The app's access gate (the instance the app uses first, so it runs once); it gives the handlers the request's context. */
  gate: AccessGate
  maxBodyBytes: number
  /**
   * How list and search answers hand their JSON to the server (../answer-body.ts); as bytes when
   * left out. A config's answer is rarely that large, and GET one is the hottest read: it keeps bytes.
   */
  answerBody?: AnswerBody
}

export function configRoutes({
  configs,
  watch,
  gate,
  maxBodyBytes,
  answerBody: body = answerBody(),
}: ConfigRoutesDeps) {
  // Handlers name the context fields they read, never hand the context on whole: Elysia reads
  // from a handler's source which fields to build, and a context passed to a function makes it
  // build all of them (headers as an object, cookies, the query) for every request.
  type Routed = { requestContext: RequestContext }

  /**
   * The JSON body of a write, read after the access gate decided (so a caller it refuses never
   * makes the service read one) and before Elysia validates it. The app's parse hook leaves it unread.
   */
  const readBody = async (context: Routed & { request: Request; body: unknown }) => {
    context.body = await readJsonBody(context.request, maxBodyBytes)
    context.requestContext.noteBody(context.body)
  }
  /** Every write may be a dry run; a bad `dryRun` is refused before anything runs. */
  const noteDryRun = ({ requestContext }: Routed) => {
    requestContext.dryRun = dryRunOf(requestContext.query)
  }
  /** A warn-mode schema let a breaking write through: the client hears of it, the audit line too. */
  const warn = (stored: StoredConfig, requestContext: RequestContext, set: { headers: Record<string, unknown> }) => {
    if (stored.warning === undefined) return
    requestContext.warning = warningHeader(stored.warning)
    set.headers.warning = requestContext.warning
  }

  /** `ignore`: parameters already handled (a `watch=false` on GET /configs asks for a plain list). */
  const list = async (
    requestContext: RequestContext,
    params: URLSearchParams,
    action: 'list' | 'search',
    ignore: readonly string[] = [],
  ) => {
    const query = parseListQuery(params, ignore)
    const answer = body(requestContext.method)
    const page = await configs.list(requestContext, query, action)
    const headers: Record<string, string> = { 'x-revision': String(page.revision) }
    const last = page.items.at(-1)
    if (page.more && last) {
      const next = new URLSearchParams(params)
      next.set('cursor', encodeCursor(last.config.dcname))
      headers.link = `<${requestContext.path}?${next}>; rel="next"`
    }
    // The page's bytes or the stored JSON text as they are, when the store holds them (the read model does).
    const json = page.body ?? `[${page.items.map(jsonOf).join(',')}]`
    return jsonResponse(answer(json), headers)
  }

  return new Elysia({ name: 'configs' })
    .use(gate)
    .get(
      listConfigs.path,
      ({ request, requestContext }) => {
        const params = new URLSearchParams(requestContext.query)
        if (!wantsWatch(params)) return list(requestContext, params, 'list', ['watch'])
        const asked = parseWatchRequest(params, request.headers)
        const watchRequest = { ...asked, prefixes: configs.watchScope(requestContext, asked.prefix) }
        return watch.open(watchRequest, request, request.method === 'HEAD')
      },
      routeHook(listConfigs),
    )
    .get(
      searchConfigs.path,
      ({ requestContext }) => list(requestContext, new URLSearchParams(requestContext.query), 'search'),
      routeHook(searchConfigs),
    )
    .post(
      createConfig.path,
      async ({ body, set, requestContext }) => {
        // The name is in the body, which the gate (before the body is read) could not see:
        // AuthorizedConfigs checks it.
        const stored = await configs.create(requestContext, normalizeConfig(body as Config))
        requestContext.revision = stored.revision
        warn(stored, requestContext, set)
        set.status = 201
        set.headers.etag = etag(stored.revision)
        set.headers.location = `/configs/${encodeURIComponent(stored.config.dcname)}`
        return stored.config
      },
      { ...routeHook(createConfig), transform: [noteDryRun, readBody, guardStructure] },
    )
    .get(
      getConfig.path,
      async ({ params, request, requestContext }) => {
        // Most reads have no query string: they skip parsing one.
        const query = requestContext.query
        const revision = query === '' ? undefined : revisionParameter(new URLSearchParams(query))
        const stored =
          revision === undefined
            ? await configs.get(requestContext, params.dcname)
            : await configs.getAt(requestContext, params.dcname, revision)
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
      async ({ params, body, request, set, requestContext }) => {
        if (body.dcname !== undefined && body.dcname !== params.dcname) {
          throw badRequest('the dcname in the body differs from the one in the URL', [
            { pointer: '/dcname', message: `must be ${JSON.stringify(params.dcname)} or left out` },
          ])
        }
        const precondition = writePrecondition(request.headers, true)
        const config = normalizeConfig({ dcname: params.dcname, metadata: body.metadata })
        const { stored, created } = await configs.replace(requestContext, config, precondition)
        requestContext.revision = stored.revision
        warn(stored, requestContext, set)
        set.status = created ? 201 : 200
        set.headers.etag = etag(stored.revision)
        if (created) set.headers.location = `/configs/${encodeURIComponent(stored.config.dcname)}`
        return stored.config
      },
      { ...routeHook(replaceConfig), transform: [noteDryRun, readBody, guardStructure] },
    )
    .patch(
      patchConfig.path,
      async ({ params, body, request, set, requestContext }) => {
        if (body.dcname !== undefined && body.dcname !== params.dcname) {
          throw badRequest('PATCH cannot change the dcname', [{ pointer: '/dcname', message: 'is immutable' }])
        }
        const precondition = writePrecondition(request.headers, false)
        const stored = await configs.update(
          requestContext,
          params.dcname,
          (current) => mergeConfig(current, body),
          precondition,
        )
        requestContext.revision = stored.revision
        warn(stored, requestContext, set)
        set.headers.etag = etag(stored.revision)
        return stored.config
      },
      { ...routeHook(patchConfig), transform: [noteDryRun, readBody, guardStructure] },
    )
    .delete(
      deleteConfig.path,
      async ({ params, request, requestContext }) => {
        const precondition = writePrecondition(request.headers, false)
        requestContext.revision = await configs.delete(requestContext, params.dcname, precondition)
        return new Response(null, { status: 204 })
      },
      { ...routeHook(deleteConfig), transform: noteDryRun },
    )
    .get(
      configHistory.path,
      async ({ params, set, requestContext }) => {
        const query = new URLSearchParams(requestContext.query)
        const page = await configs.history(requestContext, params.dcname, parseHistoryQuery(query))
        const last = page.entries.at(-1)
        if (page.more && last) {
          const next = new URLSearchParams(query)
          next.set('cursor', encodeHistoryCursor(last.revision))
          set.headers.link = `<${requestContext.path}?${next}>; rel="next"`
        }
        return page.entries
      },
      routeHook(configHistory),
    )
    .post(
      rollbackConfig.path,
      async ({ params, body, request, set, requestContext }) => {
        const precondition = writePrecondition(request.headers, false)
        const { stored, created } = await configs.rollback(requestContext, params.dcname, body.revision, precondition)
        requestContext.revision = stored.revision
        warn(stored, requestContext, set)
        set.status = created ? 201 : 200
        set.headers.etag = etag(stored.revision)
        if (created) set.headers.location = `/configs/${encodeURIComponent(stored.config.dcname)}`
        return stored.config
      },
      { ...routeHook(rollbackConfig), transform: [noteDryRun, readBody, guardRollback] },
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
function jsonResponse(body: BodyInit, headers: Record<string, string>): Response {
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

function notFound(dcname: string) {
  return new ProblemError(404, 'not-found', `config ${JSON.stringify(dcname)} does not exist`)
}
