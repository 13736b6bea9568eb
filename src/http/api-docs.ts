/**
 * API docs: Swagger UI at /swagger (and /swagger/) and the OpenAPI 3.1 document at
 * /swagger/json, served by @elysiajs/openapi. The operations are the route contracts' own
 * (contract.ts: the schemas the handlers are validated by), given to the plugin as its
 * `documentation.paths`, which take the place of the ones it would derive: those would list
 * form media types for every JSON body, `application/json` for problems, no examples, and the
 * TypeBox schemas with Elysia's own keywords.
 *
 * The page is this module's, not the plugin's: the plugin's starts Swagger UI from an inline
 * script, which the page's Content-Security-Policy (security-headers.ts) would have to allow.
 * Here the page loads its starter as a file, and Swagger UI's script and stylesheet are read
 * from the swagger-ui-dist package and served here too, so the page runs with no inline script
 * and no internet access (the plugin would load them from a CDN).
 * /metrics is left out of the document: it speaks Prometheus' format, not this API's.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { openapi } from '@elysiajs/openapi'
import { Elysia, type TSchema } from 'elysia'
// Imported, not read from disk: the image runs a bundle, in which this module has no path of its own.
import pkg from '../../package.json' with { type: 'json' }
import { REPORT_ACTION } from '../configs/access.ts'
import { openApiPaths, type RouteContract } from './contract.ts'
import { BEARER_AUTH, COMPONENT_SCHEMAS } from './openapi-docs.ts'
import { OPEN, type RouteAccess, type RouteDeclaration, writes } from './route-access.ts'
import { standardSchema } from './schema-keywords.ts'
import { pagePolicy } from './security-headers.ts'

export const DOCS_PATH = '/swagger'
export const SPEC_PATH = '/swagger/json'
export const ASSETS_PATH = '/swagger/assets'

const JS = 'text/javascript; charset=utf-8'

/**
 * Swagger UI's options. `validatorUrl: 'none'`: the default asks validator.swagger.io to draw a
 * badge, a request to the internet.
 */
const SWAGGER_OPTIONS = { url: SPEC_PATH, dom_id: '#swagger-ui', validatorUrl: 'none' }

const INITIALIZER = `window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle(${JSON.stringify(SWAGGER_OPTIONS)})
})
`

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${pkg.name} API</title>
    <link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${ASSETS_PATH}/swagger-initializer.js"></script>
  </body>
</html>
`

/** The page's files, served under ASSETS_PATH. */
const ASSET_NAMES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'swagger-initializer.js'] as const
const CACHED = 'public, max-age=86400'

interface Asset {
  path: string
  contentType: string
}

/** The page, the document and the page's files: open to everyone (the plugin registers the first two). */
export const DOCS_ROUTES: RouteDeclaration[] = [DOCS_PATH, SPEC_PATH, ...ASSET_NAMES.map(assetPath)].map((path) => ({
  method: 'GET',
  path,
  access: OPEN,
}))

function assetPath(name: string): string {
  return `${ASSETS_PATH}/${name}`
}

/**
 * Where the files are, found at start-up: a missing package stops start-up instead of breaking
 * the page later. Their content is read on first request (`bodyOf`): reading and decoding Swagger
 * UI's 1.9 MB at start was a measurable part of start to ready (bench/README.md), for a page
 * most starts never serve.
 */
function locateAssets(): Record<string, Asset> {
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
  const located: Record<string, Asset> = {
    'swagger-ui-bundle.js': { path: join(dist, 'swagger-ui-bundle.js'), contentType: JS },
    'swagger-ui.css': { path: join(dist, 'swagger-ui.css'), contentType: 'text/css; charset=utf-8' },
  }
  for (const { path } of Object.values(located)) {
    if (!existsSync(path)) throw new Error(`the API docs cannot be served: ${path} is missing`)
  }
  return located
}

/** Each file's bytes, read once (not decoded: they are sent as they are); a failed read is tried again. */
const bodies = new Map<string, Promise<Uint8Array<ArrayBuffer>>>()
function bodyOf(path: string): Promise<Uint8Array<ArrayBuffer>> {
  let body = bodies.get(path)
  if (!body) {
    body = readFile(path).then((bytes) => new Uint8Array(bytes))
    bodies.set(path, body)
    body.catch(() => bodies.delete(path))
  }
  return body
}

export interface ApiDocsOptions {
  /** The contract of every route the document shows. */
  contracts: readonly RouteContract[]
}

export function apiDocs(options: ApiDocsOptions) {
  const files = locateAssets()
  // Which operations need the token follows from what each route declares, as the gate reads it:
  // open routes never, writes always; reads may send one (`{}`: or none), which narrows them to
  // the token's prefixes and is needed with ANONYMOUS_READ=false. So Swagger UI sends an
  // authorized token on reads too.
  const security = (access: RouteAccess) => {
    if ('open' in access) return []
    // A consumer report stores no config, but it needs a known caller like a write does.
    const needsToken = writes(access) || access.action === REPORT_ACTION
    return needsToken ? [{ [BEARER_AUTH]: [] }] : [{}, { [BEARER_AUTH]: [] }]
  }
  let paths: ReturnType<typeof openApiPaths> | undefined
  let components:
    | {
        schemas: Record<string, TSchema>
        securitySchemes: Record<string, { type: 'http'; scheme: string; description: string }>
      }
    | undefined
  const hidden = { detail: { hide: true } }
  const docs = new Elysia({ name: 'api-docs' })
  for (const [name, { path, contentType }] of Object.entries(files)) {
    docs.get(
      assetPath(name),
      async () =>
        new Response(await bodyOf(path), { headers: { 'content-type': contentType, 'cache-control': CACHED } }),
      hidden,
    )
  }
  docs.get(
    assetPath('swagger-initializer.js'),
    () => new Response(INITIALIZER, { headers: { 'content-type': JS, 'cache-control': CACHED } }),
    hidden,
  )
  const policy = pagePolicy()
  return docs
    .onBeforeHandle(({ path }) => (path === `${DOCS_PATH}/` ? redirectToPage() : undefined))
    .get(
      DOCS_PATH,
      () =>
        new Response(PAGE, {
          headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': policy },
        }),
      hidden,
    )
    .use(
      openapi({
        path: DOCS_PATH,
        specPath: SPEC_PATH,
        // The page is served above.
        provider: null,
        exclude: { paths: ['/metrics'] },
        documentation: {
          // Relative, so "Try it out" calls the service that served the page, whatever its address.
          servers: [{ url: '/', description: 'This service' }],
          info: {
            title: 'config-service',
            version: pkg.version,
            description:
              'A typed config store: named configs with revisions, search, watch. ' +
              'Errors are `application/problem+json` (RFC 9457).',
          },
          tags: [
            { name: 'configs', description: 'The config API' },
            { name: 'consumers', description: 'What the programs using a config applied or rejected' },
            { name: 'operations', description: 'Probes for Kubernetes and load balancers' },
          ],
          // Made when first asked for (the plugin reads them as it serves the document), not at
          // start: walking every contract's schemas was part of every start.
          get paths() {
            paths ??= openApiPaths(options.contracts, COMPONENT_SCHEMAS, security)
            return paths
          },
          get components() {
            components ??= {
              schemas: Object.fromEntries(
                Object.entries(COMPONENT_SCHEMAS).map(([name, schema]) => [name, standardSchema(schema)]),
              ) as Record<string, TSchema>,
              securitySchemes: { [BEARER_AUTH]: { type: 'http', scheme: 'bearer', description: BEARER_DESCRIPTION } },
            }
            return components
          },
        },
      }),
    )
}

/**
 * Elysia routes /swagger/ to the page too; it is sent on to /swagger, so that the page has one
 * address (and its links, relative or not, one meaning).
 */
function redirectToPage(): Response {
  return new Response(null, { status: 308, headers: { location: DOCS_PATH } })
}

const BEARER_DESCRIPTION =
  'A token of this service: the API_TOKEN it runs with (an admin), a named token from its ' +
  'API_TOKENS_FILE (a reader, writer or admin, maybe limited to dcname prefixes), or a JWT from ' +
  'its OIDC issuer, such as a Kubernetes service-account token. Writes (POST, PUT, PATCH, DELETE) ' +
  'need one once any is configured; reads may send one, which limits lists, searches and watches ' +
  'to its prefixes, and need one with ANONYMOUS_READ=false. Probes never do.'
