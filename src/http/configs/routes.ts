/**
 * The config API. Handlers parse, call the store, and map the outcome to a status;
 * errors are thrown as typed errors and mapped to problem+json in one place (http/errors).
 */
import { Elysia, getSchemaValidator, t } from 'elysia'
import type { ConfigStore, WriteMeta } from '../../configs/config-store.ts'
import { applyMergePatch } from '../../configs/merge-patch.ts'
import {
  type Config,
  ConfigSchema,
  DcName,
  type FieldError,
  isObject,
  MergePatchSchema,
  normalizeConfig,
  ReplaceSchema,
  structuralErrors,
} from '../../configs/model.ts'
import { etag, noneMatch, writePrecondition } from '../conditional.ts'
import { fieldErrors } from '../errors.ts'
import { encodeCursor, parseListQuery } from '../list-query.ts'
import { badRequest, ProblemError } from '../problem.ts'
import type { WatchHub } from '../watch/watch-hub.ts'
import { parseWatchRequest, wantsWatch } from '../watch/watch-query.ts'
import { createDocs, deleteDocs, getDocs, listDocs, patchDocs, replaceDocs, searchDocs } from './route-docs.ts'

const configValidator = getSchemaValidator(ConfigSchema, { normalize: false, additionalProperties: false })

/** Refuses prototype keys and deep nesting before the schema validator walks the body. */
function guardStructure({ body }: { body: unknown }) {
  const errors = structuralErrors(body)
  if (errors.length > 0) throw badRequest('the body has refused keys or is nested too deeply', errors)
}

const Params = t.Object({ dcname: DcName })

export function configRoutes(store: ConfigStore, watch: WatchHub) {
  const list = async ({ request, set }: { request: Request; set: { headers: Record<string, string | number> } }) => {
    const url = new URL(request.url)
    const query = parseListQuery(url.searchParams)
    const page = await store.list(query)
    set.headers['x-revision'] = String(page.revision)
    const last = page.items.at(-1)
    if (page.more && last) {
      const next = new URLSearchParams(url.searchParams)
      next.set('cursor', encodeCursor(last.config.dcname))
      set.headers.link = `<${url.pathname}?${next}>; rel="next"`
    }
    return page.items.map((item) => item.config)
  }

  return new Elysia({ name: 'configs' })
    .get(
      '/configs',
      ({ request, set }) => {
        const params = new URL(request.url).searchParams
        if (!wantsWatch(params)) return list({ request, set })
        return watch.open(parseWatchRequest(params, request.headers), request.signal, request.method === 'HEAD')
      },
      { detail: listDocs },
    )
    .get('/search', list, { detail: searchDocs })
    .post(
      '/configs',
      async ({ body, request, set }) => {
        const stored = await store.create(normalizeConfig(body as Config), writeMeta(request))
        set.status = 201
        set.headers.etag = etag(stored.revision)
        set.headers.location = `/configs/${encodeURIComponent(stored.config.dcname)}`
        return stored.config
      },
      { body: ConfigSchema, transform: guardStructure, detail: createDocs },
    )
    .get(
      '/configs/:dcname',
      async ({ params, request, set }) => {
        const stored = await store.get(params.dcname)
        if (!stored) throw notFound(params.dcname)
        set.headers.etag = etag(stored.revision)
        if (!noneMatch(request.headers.get('if-none-match'), stored.revision)) {
          return new Response(null, { status: 304, headers: { etag: etag(stored.revision) } })
        }
        return stored.config
      },
      { params: Params, detail: getDocs },
    )
    .put(
      '/configs/:dcname',
      async ({ params, body, request, set }) => {
        if (body.dcname !== undefined && body.dcname !== params.dcname) {
          throw badRequest('the dcname in the body differs from the one in the URL', [
            { pointer: '/dcname', message: `must be ${JSON.stringify(params.dcname)} or left out` },
          ])
        }
        const precondition = writePrecondition(request.headers, true)
        const config = normalizeConfig({ dcname: params.dcname, metadata: body.metadata })
        const { stored, created } = await store.replace(config, precondition, writeMeta(request))
        set.status = created ? 201 : 200
        set.headers.etag = etag(stored.revision)
        if (created) set.headers.location = `/configs/${encodeURIComponent(stored.config.dcname)}`
        return stored.config
      },
      {
        params: Params,
        body: ReplaceSchema,
        transform: guardStructure,
        detail: replaceDocs,
      },
    )
    .patch(
      '/configs/:dcname',
      async ({ params, body, request, set }) => {
        if (body.dcname !== undefined && body.dcname !== params.dcname) {
          throw badRequest('PATCH cannot change the dcname', [{ pointer: '/dcname', message: 'is immutable' }])
        }
        const precondition = writePrecondition(request.headers, false)
        const stored = await store.update(
          params.dcname,
          (current) => mergeConfig(current, body),
          precondition,
          writeMeta(request),
        )
        set.headers.etag = etag(stored.revision)
        return stored.config
      },
      {
        params: Params,
        body: MergePatchSchema,
        transform: guardStructure,
        detail: patchDocs,
      },
    )
    .delete(
      '/configs/:dcname',
      async ({ params, request, set }) => {
        await store.delete(params.dcname, writePrecondition(request.headers, false), writeMeta(request))
        set.status = 204
        return new Response(null, { status: 204 })
      },
      { params: Params, detail: deleteDocs },
    )
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
 * Who wrote, for the write's history entry. A placeholder until access control names the actor
 * (and the request id assigned when the client sent none reaches the handlers).
 */
function writeMeta(request: Request): WriteMeta {
  return { actor: 'anonymous', requestId: request.headers.get('x-request-id') ?? '' }
}

function notFound(dcname: string) {
  return new ProblemError(404, 'not-found', `config ${JSON.stringify(dcname)} does not exist`)
}
