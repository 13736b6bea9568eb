/**
 * API docs: Swagger UI at /swagger (and /swagger/) and the OpenAPI 3.1 document at
 * /swagger/json, made by @elysiajs/openapi from the routes themselves.
 *
 * The UI's script and stylesheet are read from the swagger-ui-dist package and served here, so
 * the page works with no internet access (the plugin would load them from a CDN).
 * /metrics is left out of the document: it speaks Prometheus' format, not this API's.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openapi } from '@elysiajs/openapi'
import { Elysia, type TSchema } from 'elysia'
import { needsToken } from './auth.ts'
import { BEARER_AUTH, COMPONENT_SCHEMAS, type ComponentName, schemaRef } from './openapi-docs.ts'
import { standardSchema } from './schema-keywords.ts'

export const DOCS_PATH = '/swagger'
export const SPEC_PATH = '/swagger/json'
export const ASSETS_PATH = '/swagger/assets'

const ASSETS = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
} as const

type AssetName = keyof typeof ASSETS

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

const BODY_CONTENT_TYPES: Record<string, string[]> = {
  PATCH: ['application/merge-patch+json', 'application/json'],
}

export interface RouteLike {
  method: string
  path: string
  hooks?: { body?: unknown; detail?: { parameters?: Parameter[]; hide?: boolean } }
}

interface Parameter {
  name: string
  in: string
  [key: string]: unknown
}

interface MediaType {
  schema?: unknown
  [key: string]: unknown
}

interface Operation {
  parameters?: Parameter[]
  requestBody?: { content?: Record<string, MediaType> }
  responses?: Record<string, { content?: Record<string, MediaType>; headers?: Record<string, MediaType> }>
  security?: Record<string, string[]>[]
}

interface Document {
  paths?: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, unknown> }
}

/** The package's version, for the document's info. */
function serviceVersion(): string {
  const manifest = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../package.json'), 'utf8'))
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0'
}

export interface ApiDocsOptions {
  /** Every route of the app, once all are registered (the plugin sees them only then). */
  routes: () => RouteLike[]
}

export function apiDocs(options: ApiDocsOptions) {
  const files = loadAssets()
  const completed = new WeakMap<object, Document>()
  const docs = new Elysia({ name: 'api-docs' })
  for (const name of Object.keys(ASSETS) as AssetName[]) {
    docs.get(
      `${ASSETS_PATH}/${name}`,
      () =>
        new Response(files[name], {
          headers: { 'content-type': ASSETS[name], 'cache-control': 'public, max-age=86400' },
        }),
      { detail: { hide: true } },
    )
  }
  return docs
    .onBeforeHandle(({ path }) => (path === `${DOCS_PATH}/` ? redirectToPage() : undefined))
    .mapResponse(({ path, responseValue }) => {
      if (withoutTrailingSlash(path) !== SPEC_PATH || responseValue === null || typeof responseValue !== 'object')
        return
      const raw = responseValue as Document
      let document = completed.get(raw)
      if (!document) {
        document = completeDocument(raw, options.routes())
        completed.set(raw, document)
      }
      return Response.json(document)
    })
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
            version: serviceVersion(),
            description:
              'A typed config store: named configs with revisions, search, watch. ' +
              'Errors are `application/problem+json` (RFC 9457).',
          },
          tags: [
            { name: 'configs', description: 'The config API' },
            { name: 'operations', description: 'Probes for Kubernetes and load balancers' },
          ],
          components: {
            schemas: COMPONENT_SCHEMAS as Record<string, TSchema>,
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
  'The API_TOKEN the service runs with. Writes (POST, PUT, PATCH, DELETE) need it when one is set; ' +
  'reads and probes never do.'

/**
 * What the plugin cannot know: this app reads every body with one parser of its own, so the
 * plugin lists no media types for request bodies, and it replaces a route's documented
 * parameters (headers, examples) with the ones it derives from `params`. Which operations need
 * the token follows from the guard's own rule (by method), and the schemas are reduced to
 * standard keywords.
 */
function completeDocument(raw: Document, routes: RouteLike[]): Document {
  const document: Document = JSON.parse(JSON.stringify(raw))
  for (const item of Object.values(document.paths ?? {})) {
    for (const [method, operation] of operationsOf(item)) {
      // An empty list says "no token" explicitly: left out, readers cannot tell it from "forgotten".
      operation.security = needsToken(method.toUpperCase()) ? [{ [BEARER_AUTH]: [] }] : []
    }
  }
  for (const route of routes) {
    const operation = document.paths?.[openApiPath(route.path)]?.[route.method.toLowerCase()]
    if (!operation) continue
    const body = route.hooks?.body
    if (body && operation.requestBody) {
      const component = componentOf(body)
      const schema = component ? schemaRef(component) : operation.requestBody.content?.['application/json']?.schema
      const example = (body as { examples?: unknown[] }).examples?.[0]
      const types = BODY_CONTENT_TYPES[route.method] ?? ['application/json']
      operation.requestBody.content = Object.fromEntries(
        types.map((type) => [type, { schema, ...(example === undefined ? {} : { example }) }]),
      )
    }
    const documented = route.hooks?.detail?.parameters
    if (documented) operation.parameters = mergeParameters(operation.parameters ?? [], documented)
  }
  reduceSchemas(document)
  return document
}

/** Every schema of the document (components, parameters, bodies, responses, headers), reduced in place. */
function reduceSchemas(document: Document): void {
  const reduce = (holder: MediaType | undefined) => {
    if (holder && 'schema' in holder) holder.schema = standardSchema(holder.schema)
  }
  const schemas = document.components?.schemas ?? {}
  for (const name of Object.keys(schemas)) schemas[name] = standardSchema(schemas[name])
  for (const item of Object.values(document.paths ?? {})) {
    for (const [, operation] of operationsOf(item)) {
      for (const parameter of operation.parameters ?? []) reduce(parameter)
      for (const media of Object.values(operation.requestBody?.content ?? {})) reduce(media)
      for (const response of Object.values(operation.responses ?? {})) {
        for (const media of Object.values(response.content ?? {})) reduce(media)
        for (const header of Object.values(response.headers ?? {})) reduce(header)
      }
    }
  }
}

const OPERATION_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

/** A path item's operations, without its other fields (such as shared `parameters`). */
function operationsOf(item: Record<string, Operation>): [string, Operation][] {
  return Object.entries(item).filter(([method]) => OPERATION_METHODS.has(method))
}

function componentOf(schema: unknown): ComponentName | undefined {
  return (Object.keys(COMPONENT_SCHEMAS) as ComponentName[]).find((name) => COMPONENT_SCHEMAS[name] === schema)
}

/** Derived parameters keep their schemas; documented ones add descriptions, examples and headers. */
function mergeParameters(derived: Parameter[], documented: Parameter[]): Parameter[] {
  const key = (p: Parameter) => `${p.in}:${p.name}`
  const byKey = new Map(derived.map((p) => [key(p), p]))
  for (const p of documented) byKey.set(key(p), { ...byKey.get(key(p)), ...p })
  return [...byKey.values()]
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

function openApiPath(path: string): string {
  return path.replace(/:([^/]+)/g, '{$1}')
}
