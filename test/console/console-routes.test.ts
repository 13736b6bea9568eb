/**
 * How the service serves the console (in-process, the app wired as main.ts wires it): one page
 * for both console URLs, assets with their content types and revalidation headers, every module
 * the page imports served, open with a token configured, hidden from the API document, and
 * counted under its route pattern. Also the sizes, printed for the README.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { inProcessService } from '../observability/in-process.ts'
import { parseExposition, seriesOf } from '../support/exposition-parser.ts'

type Service = Awaited<ReturnType<typeof inProcessService>>
let service: Service

const OWN = join(import.meta.dir, '../../src/console')
const VENDOR = ['vendor/preact.mjs', 'vendor/preact-hooks.mjs', 'vendor/htm.mjs']

beforeAll(async () => {
  service = await inProcessService({ API_TOKEN: 'console-test-token' })
})
afterAll(async () => {
  await service.close()
})

function importMap(page: string): Record<string, string> {
  const json = /<script type="importmap">([\s\S]*?)<\/script>/.exec(page)?.[1]
  return JSON.parse(json ?? '{}').imports
}

describe('serving the console', () => {
  it('when /ui or /ui/configs/<dcname> is asked for, without a token, then both answer the same HTML page', async () => {
    const list = await service.request('/ui')
    const config = await service.request('/ui/configs/datacenter-1')
    expect(list.status).toBe(200)
    expect(config.status).toBe(200)
    expect(list.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(list.headers.get('cache-control')).toBe('no-cache')
    const page = await list.text()
    expect(await config.text()).toBe(page)
    expect(page).toContain('<script type="module" src="/ui/assets/main.js">')
    expect((await service.request('/ui/')).status).toBe(200)
  })

  it('when /ui/schemas, /ui/schemas/<name>, /ui/rollouts or /ui/rollouts/<id> is asked for, then each answers the same HTML page', async () => {
    const page = await (await service.request('/ui')).text()
    for (const path of ['/ui/schemas', '/ui/schemas/payments', '/ui/rollouts', '/ui/rollouts/ro-1']) {
      const response = await service.request(path)
      expect(response.status, path).toBe(200)
      expect(await response.text(), path).toBe(page)
    }
  })

  it("when the service's bare address is asked for, then it sends the browser on to /ui (302), even where reads need a token", async () => {
    const closed = await inProcessService({ API_TOKEN: 'console-test-token', ANONYMOUS_READ: 'false' })
    try {
      for (const method of ['GET', 'HEAD']) {
        const response = await closed.request('/', { method })
        expect({ method, status: response.status, location: response.headers.get('location') }).toEqual({
          method,
          status: 302,
          location: '/ui',
        })
      }
      expect((await closed.request('/configs')).status).toBe(401)
    } finally {
      await closed.close()
    }
  })

  it('when / is sent another method, then the route matcher answers 405 with Allow, as for any route', async () => {
    const response = await service.request('/', {
      method: 'DELETE',
      headers: { authorization: 'Bearer console-test-token' },
    })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, HEAD')
  })

  it('when an asset is asked for again with its ETag, then the answer is 304 (revalidated, not cached blindly)', async () => {
    const first = await service.request('/ui/assets/main.js')
    const etag = first.headers.get('etag') ?? ''
    expect(etag).toMatch(/^"[\w-]+"$/)
    const again = await service.request('/ui/assets/main.js', { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
  })

  it('when the page loads its modules, then every import (relative or through the import map) is served as JavaScript', async () => {
    const map = importMap(await (await service.request('/ui')).text())
    expect(Object.keys(map).sort()).toEqual(['htm', 'preact', 'preact/hooks'])
    const modules = readdirSync(OWN).filter((name) => name.endsWith('.js'))
    const wanted = new Set<string>(Object.values(map))
    for (const name of modules) {
      const source = await (await service.request(`/ui/assets/${name}`)).text()
      for (const [, specifier] of source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)) {
        const target = specifier?.startsWith('./') ? `/ui/assets/${specifier.slice(2)}` : map[specifier ?? '']
        expect(target, `${name} imports ${specifier}`).toBeDefined()
        wanted.add(target as string)
      }
    }
    for (const url of wanted) {
      const response = await service.request(url)
      expect(response.status, url).toBe(200)
      expect(response.headers.get('content-type'), url).toBe('text/javascript; charset=utf-8')
      expect(await response.text(), url).not.toContain('sourceMappingURL')
    }
    const css = await service.request('/ui/assets/console.css')
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
  })

  it('when an asset that does not exist is asked for, then the answer is a 404 problem', async () => {
    const response = await service.request('/ui/assets/nothing.js')
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    for (const path of ['/ui/assets/tsconfig.json', '/ui/assets/index.html']) {
      expect((await service.request(path)).status, path).toBe(404)
    }
  })

  it('when /ui is sent another method, then the route matcher answers 405 with Allow, not 404', async () => {
    const response = await service.request('/ui', {
      method: 'POST',
      headers: { authorization: 'Bearer console-test-token' },
    })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, HEAD')
  })

  it('when the API document is read, then the console routes are not in it', async () => {
    const document = await (await service.request('/swagger/json')).json()
    expect(Object.keys(document.paths).filter((path) => path === '/' || path.startsWith('/ui'))).toEqual([])
  })

  it('when console URLs are served, then metrics count them under their route patterns, never the raw path', async () => {
    await service.request('/ui/configs/datacenter-2')
    await service.request('/ui/assets/vendor/htm.mjs')
    const families = parseExposition(await (await service.request('/metrics')).text())
    const routes = [...seriesOf(families, 'http_requests_total').keys()].map((key) => /route=([^,]*)/.exec(key)?.[1])
    expect(routes).toContain('/ui/configs/:dcname')
    expect(routes).toContain('/ui/assets/*')
    expect(routes.filter((route) => route?.includes('datacenter-2') || route?.includes('htm.mjs'))).toEqual([])
  })

  it('when the sizes are added up, then our code and the vendor modules stay well under 190 kB', async () => {
    const size = async (path: string) => (await (await service.request(path)).arrayBuffer()).byteLength
    let own = await size('/ui')
    for (const name of readdirSync(OWN).filter((name) => /\.(js|css)$/.test(name))) {
      own += await size(`/ui/assets/${name}`)
    }
    let vendor = 0
    for (const name of VENDOR) vendor += await size(`/ui/assets/${name}`)
    console.info(`console size: own ${own} bytes, vendor ${vendor} bytes, together ${own + vendor} bytes`)
    expect(own + vendor).toBeLessThan(190_000)
  })
})
