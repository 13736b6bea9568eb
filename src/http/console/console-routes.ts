/**
 * The web console: GET /ui (the list), GET /ui/configs/:dcname (one config), GET /ui/schemas and
 * GET /ui/schemas/:name (the config schemas), GET /ui/rollouts and GET /ui/rollouts/:id (the
 * rollouts) answer the same HTML page, and the page's own
 * router draws the one asked for. GET /ui/assets/<name> serves
 * its browser modules (src/console/), the stylesheet, and Preact and htm from node_modules, so
 * the console needs no build step and no internet access, on Bun as on Deno.
 *
 * GET / sends a browser on to /ui (302): the service's bare address is what a person types.
 *
 * These routes are open (the page itself holds nothing secret; the API calls it makes carry
 * the token) and hidden from the OpenAPI document, which describes the API, not the page. They
 * are still registered routes, so the route matcher knows them (405 with Allow for another
 * method, their own metrics label).
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Elysia } from 'elysia'
import { ProblemError } from '../problem.ts'
import { OPEN, type RouteDeclaration } from '../route-access.ts'
import { pagePolicy } from '../security-headers.ts'

export const CONSOLE_PATH = '/ui'
export const ROOT_PATH = '/'
export const CONSOLE_ASSETS_PATH = '/ui/assets'

const CONFIG_PAGE_PATH = `${CONSOLE_PATH}/configs/:dcname` as const
const SCHEMAS_PAGE_PATH = `${CONSOLE_PATH}/schemas` as const
const SCHEMA_PAGE_PATH = `${CONSOLE_PATH}/schemas/:name` as const
const ROLLOUTS_PAGE_PATH = `${CONSOLE_PATH}/rollouts` as const
const ROLLOUT_PAGE_PATH = `${CONSOLE_PATH}/rollouts/:id` as const
const PAGE_PATHS = [
  CONSOLE_PATH,
  CONFIG_PAGE_PATH,
  SCHEMAS_PAGE_PATH,
  SCHEMA_PAGE_PATH,
  ROLLOUTS_PAGE_PATH,
  ROLLOUT_PAGE_PATH,
] as const
const ASSETS_ROUTE = `${CONSOLE_ASSETS_PATH}/*` as const

/** The page, its files and `/` (which only sends a browser on to the page): open to everyone (see above). */
export const CONSOLE_ROUTES: RouteDeclaration[] = [ROOT_PATH, ...PAGE_PATHS, ASSETS_ROUTE].map((path) => ({
  method: 'GET',
  path,
  access: OPEN,
}))

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
}

/**
 * The vendor modules the page's import map names, as asset names, and where each comes from:
 * the browser build that lies beside the file the package's entry point resolves to. (Not a
 * path from the package root: htm does not export its package.json, and Deno holds to that.)
 */
const VENDOR: Record<string, { entry: string; file: string }> = {
  'vendor/preact.mjs': { entry: 'preact', file: 'preact.mjs' },
  'vendor/preact-hooks.mjs': { entry: 'preact/hooks', file: 'hooks.mjs' },
  'vendor/htm.mjs': { entry: 'htm', file: 'htm.module.js' },
}

interface Asset {
  body: string
  contentType: string
  etag: string
  /** Headers of this file alone: the page's Content-Security-Policy. */
  headers?: Record<string, string>
}

/**
 * Every file, read once at start: a missing package or file stops start-up instead of breaking
 * the page later. The source-map comments of the vendor files are cut, since the maps are not
 * shipped: a browser with its developer tools open would ask for them and get a 404.
 */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  const add = (name: string, body: string) => {
    const contentType = CONTENT_TYPES[extname(name)]
    if (!contentType) return
    const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16)
    assets.set(name, { body, contentType, etag: `"${hash}"` })
  }
  const own = consoleDirectory()
  for (const name of readdirSync(own).sort()) add(name, readFileSync(join(own, name), 'utf8'))
  const require = createRequire(import.meta.url)
  for (const [name, { entry, file }] of Object.entries(VENDOR)) {
    const dir = dirname(require.resolve(entry))
    add(name, readFileSync(join(dir, file), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'))
  }
  return assets
}

/**
 * src/console/ of the project this module belongs to: the one beside the nearest package.json
 * above this module. Not a fixed path relative to it, because the same code runs from its
 * source file (src/http/console/) and, in the image, from the bundle (dist/service/), where it
 * is part of one output file at another depth.
 */
function consoleDirectory(): string {
  const here = fileURLToPath(import.meta.url)
  let dir = dirname(here)
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`the console's files are missing: no package.json above ${here}`)
    dir = parent
  }
  return join(dir, 'src', 'console')
}

/**
 * Assets are revalidated on every load (`no-cache` with an `ETag`, so an unchanged file is a
 * 304) rather than cached for a long time under a hashed name: during a rolling update the page
 * and its modules may come from replicas of different versions, and a hashed name one replica
 * handed out would be a 404 on the other.
 */
function serve(asset: Asset, request: Request): Response {
  const headers = { 'content-type': asset.contentType, etag: asset.etag, 'cache-control': 'no-cache', ...asset.headers }
  if (request.headers.get('if-none-match') === asset.etag) return new Response(null, { status: 304, headers })
  return new Response(asset.body, { headers })
}

/**
 * The page's inline scripts, as the browser hashes them: its import map, which has to be inline
 * (browsers load no import map from a file). Its hash in the policy lets it, and nothing else
 * inline, run; an edit of the map changes the hash with it.
 */
function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((match) => match[1] ?? '')
}

export function consoleRoutes() {
  const assets = loadAssets()
  const page = assets.get('index.html')
  if (!page) throw new Error('src/console/index.html is missing')
  assets.delete('index.html')
  page.headers = { 'content-security-policy': pagePolicy(inlineScripts(page.body)) }
  const hidden = { detail: { hide: true } }
  const shell = ({ request }: { request: Request }) => serve(page, request)
  return new Elysia({ name: 'console' })
    .get(ROOT_PATH, () => new Response(null, { status: 302, headers: { location: CONSOLE_PATH } }), hidden)
    .get(CONSOLE_PATH, shell, hidden)
    .get(CONFIG_PAGE_PATH, shell, hidden)
    .get(SCHEMAS_PAGE_PATH, shell, hidden)
    .get(SCHEMA_PAGE_PATH, shell, hidden)
    .get(ROLLOUTS_PAGE_PATH, shell, hidden)
    .get(ROLLOUT_PAGE_PATH, shell, hidden)
    .get(
      ASSETS_ROUTE,
      ({ params, request }) => {
        const name = params['*']
        const asset = assets.get(name)
        if (!asset) throw new ProblemError(404, 'no-route', `the console has no asset ${JSON.stringify(name)}`)
        return serve(asset, request)
      },
      hidden,
    )
}
