/**
 * API docs: Swagger UI at /swagger (and /swagger/) and the OpenAPI 3.1 document at
 * /swagger/json, served by @elysiajs/openapi. The operations are the route contracts' own
 * (contract.ts: the schemas the handlers are validated by), given to the plugin as its
 * `documentation.paths`, which take the place of the ones it would derive: those would list
 * form media types for every JSON body, `application/json` for problems, no examples, and the
 * TypeBox schemas with Elysia's own keywords.
 *
 * The UI's script and stylesheet are read from the swagger-ui-dist package and served here, so
 * the page works with no internet access (the plugin would load them from a CDN).
 * /metrics is left out of the document: it speaks Prometheus' format, not this API's.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { openapi } from '@elysiajs/openapi'
import { Elysia, type TSchema } from 'elysia'
// Imported, not read from disk: the image runs a bundle, in which this module has no path of its own.
import pkg from '../../package.json' with { type: 'json' }
import { openApiPaths, type RouteContract } from './contract.ts'
import { BEARER_AUTH, COMPONENT_SCHEMAS } from './openapi-docs.ts'
import { OPEN, type RouteAccess, type RouteDeclaration, writes } from './route-access.ts'
import { standardSchema } from './schema-keywords.ts'

export const DOCS_PATH = '/swagger'
export const SPEC_PATH = '/swagger/json'
export const ASSETS_PATH = '/swagger/assets'

const ASSETS = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
} as const

type AssetName = keyof typeof ASSETS

/** The page, the document and the page's files: open to everyone (the plugin registers the first two). */
export const DOCS_ROUTES: RouteDeclaration[] = [DOCS_PATH, SPEC_PATH, ...Object.keys(ASSETS).map(assetPath)].map(
  (path) => ({ method: 'GET', path, access: OPEN }),
)

function assetPath(name: string): string {
  return `${ASSETS_PATH}/${name}`
}

/** The files, read once: a missing package stops start-up instead of breaking the page later. */
let assets: Record<AssetName, string> | undefined
function loadAssets(): Record<AssetName, string> {
  if (assets) return assets
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
  assets = {
    'swagger-ui-bundle.js': readFileSync(join(dist, 'swagger-ui-bundle.js'), 'utf8'),
    'swagger-ui.css': readFileSync(join(dist, 'swagger-ui.css'), 'utf8'),
  }
  return assets
}

export interface ApiDocsOptions {
  /** The contract of every route the document shows. */
  contracts: readonly RouteContract[]
}

export function apiDocs(options: ApiDocsOptions) {
  const files = loadAssets()
  const components = Object.fromEntries(
    Object.entries(COMPONENT_SCHEMAS).map(([name, schema]) => [name, standardSchema(schema)]),
  )
  // Which operations need the token follows from what each route declares, as the gate reads it:
  // open routes never, writes always; reads may send one (`{}`: or none), which narrows them to
  // the token's prefixes and is needed with ANONYMOUS_READ=false. So Swagger UI sends an
  // authorized token on reads too.
  const security = (access: RouteAccess) => {
    if ('open' in access) return []
    return writes(access) ? [{ [BEARER_AUTH]: [] }] : [{}, { [BEARER_AUTH]: [] }]
  }
  const docs = new Elysia({ name: 'api-docs' })
  for (const name of Object.keys(ASSETS) as AssetName[]) {
    docs.get(
      assetPath(name),
      () =>
        new Response(files[name], {
          headers: { 'content-type': ASSETS[name], 'cache-control': 'public, max-age=86400' },
        }),
      { detail: { hide: true } },
    )
  }
  return docs
    .onBeforeHandle(({ path }) => (path === `${DOCS_PATH}/` ? redirectToPage() : undefined))
    .use(
      openapi({
        path: DOCS_PATH,
        specPath: SPEC_PATH,
        provider: 'swagger-ui',
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
            { name: 'operations', description: 'Probes for Kubernetes and load balancers' },
          ],
          paths: openApiPaths(options.contracts, COMPONENT_SCHEMAS, security),
          components: {
            schemas: components as Record<string, TSchema>,
            securitySchemes: { [BEARER_AUTH]: { type: 'http', scheme: 'bearer', description: BEARER_DESCRIPTION } },
          },
        },
        swagger: {
          cdn: `${ASSETS_PATH}/swagger-ui-bundle.js`,
          theme: `${ASSETS_PATH}/swagger-ui.css`,
          // The default asks validator.swagger.io to draw a badge: a request to the internet.
          validatorUrl: 'none',
          autoDarkMode: false,
        },
      }),
    )
}

/**
 * The page loads the document from the relative URL `swagger/json` (the plugin's choice, not an
 * option): right from /swagger, but from /swagger/ it is /swagger/swagger/json and the page says
 * "Failed to load API definition". Elysia routes both to the same page, so /swagger/ is sent on.
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
