/**
 * A bare Elysia app shaped like the service's GET one, for measuring what Elysia's own mechanisms
 * change (bench/elysia-mechanisms.ts in process, bench/system-router-ab.ts with wrk): the
 * service's router options, 24 routes, a derive and a transform hook, the `:dcname` schema and an
 * async handler that answers a ready Response, with the variants a Shape names.
 */
import { type AnyElysia, Elysia, t } from 'elysia'
import { DcName } from '../src/configs/model.ts'

export const DCNAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/
export const NAME = 'datacenter-00042'
const stored = { json: JSON.stringify({ dcname: NAME, metadata: { region: 'eu-west-1', tier: 'gold' } }), revision: 7 }
export const read = (_dcname: string) => Promise.resolve(stored)
export const answer = (found: typeof stored) =>
  new Response(found.json, { headers: { etag: `"${found.revision}"`, 'content-type': 'application/json' } })

export interface Shape {
  params?: 'schema' | 'by hand'
  context?: 'derive' | 'transform'
  wholeContext?: boolean
  /** The handler reads the URL and one header, as the service's front door does for every request. */
  readsRequest?: boolean
  options?: ConstructorParameters<typeof Elysia>[0]
}

type Routed = { params: { dcname: string }; request: Request; requestContext: unknown }
type Handler = (context: Routed) => unknown
/** The few registration methods used here, loosely typed: the routes are built in loops. */
interface Routes {
  get(path: string, handler: Handler, hook?: object): Routes
  post(path: string, handler: Handler): Routes
  put(path: string, handler: Handler): Routes
  patch(path: string, handler: Handler): Routes
  delete(path: string, handler: Handler): Routes
}

export function bareApp(shape: Shape): AnyElysia {
  const withContext =
    shape.context === 'transform'
      ? new Elysia({ name: 'context' })
          .decorate('requestContext', null as unknown)
          .onTransform({ as: 'global' }, (context) => {
            context.requestContext = { route: context.route, params: context.params }
          })
      : new Elysia({ name: 'context' }).derive({ as: 'global' }, ({ route, params }) => ({
          requestContext: { route, params },
        }))
  const base = new Elysia({ normalize: false, handler: { standardHostname: false }, ...shape.options })
    .use(withContext)
    .onTransform({ as: 'global' }, function gate(context): void {
      // Typed loosely: the context plugin is one of two shapes.
      if ((context as Record<string, unknown>).requestContext === undefined) throw new Error('no context')
    })
    .onParse({ as: 'global' }, () => null)
  let app = base as unknown as Routes
  for (const path of ['/configs', '/search', '/schemas', '/rollouts', '/healthz', '/readyz', '/a/b', '/c/d', '/e'])
    app = app.get(path, () => new Response('x'))
  for (const path of ['/schemas/:name', '/rollouts/:id', '/rollouts/:id/pause', '/configs/:dcname/history'])
    app = app.get(path, () => new Response('x')).post(path, () => new Response('x'))
  const hook = {
    response: { 200: t.Any(), 304: t.Any(), 404: t.Any() },
    ...(shape.params === 'by hand' ? {} : { params: t.Object({ dcname: DcName }) }),
  }
  const byHand = shape.params === 'by hand'
  const readsRequest = shape.readsRequest === true
  const handOn = (context: Routed) => read(context.params.dcname).then(answer)
  app = shape.wholeContext
    ? app.get('/configs/:dcname', (context) => handOn(context), hook)
    : app.get(
        '/configs/:dcname',
        async ({ params, request, requestContext }) => {
          if (requestContext === undefined || (byHand && !DCNAME.test(params.dcname))) throw new Error('bad name')
          if (readsRequest && (request.url === '' || request.headers.get('x-request-id') === ''))
            throw new Error('read')
          return answer(await read(params.dcname))
        },
        hook,
      )
  for (const method of ['put', 'patch', 'delete'] as const)
    app = app[method]('/configs/:dcname', () => new Response('x'))
  return base
}
