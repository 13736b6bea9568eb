/**
 * The access gate through the real service (buildService, in-process) for the rules that do not
 * need a second process: ANONYMOUS_READ=false and a service with no credential at all; and the
 * gate in a bare app: what it reads (the route the router matched) and notes in the request's
 * context, and how it fails closed.
 */
import { afterEach, describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { type Principal, UnauthenticatedError } from '../../src/configs/access.ts'
import { frontDoor } from '../../src/front-door.ts'
import { accessGate } from '../../src/http/auth.ts'
import { errorHandling } from '../../src/http/errors.ts'
import { RequestContexts } from '../../src/http/request-context.ts'
import { OPEN, routeAccessTable } from '../../src/http/route-access.ts'
import { sha256 } from '../access/support.ts'
import { inProcessService } from '../observability/in-process.ts'
import { tempDir } from '../support/server.ts'

type Service = Awaited<ReturnType<typeof inProcessService>>
let service: Service | undefined

afterEach(async () => {
  await service?.close()
  service = undefined
})

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('ANONYMOUS_READ=false', () => {
  it('when a config is read without a token, then it is 401; with any valid token it is allowed; probes stay open', async () => {
    const file = join(tempDir(), 'tokens.yaml')
    writeFileSync(file, `tokens:\n  - { name: r, sha256: ${sha256('reader-secret')}, role: reader }\n`)
    service = await inProcessService({ API_TOKENS_FILE: file, ANONYMOUS_READ: 'false' })
    for (const path of ['/configs', '/configs/datacenter-1', '/search?dcname=x', '/configs?watch=true']) {
      const response = await service.request(path)
      expect([path, response.status]).toEqual([path, 401])
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="config-service"')
    }
    expect((await service.request('/configs/datacenter-1', { headers: bearer('reader-secret') })).status).toBe(200)
    expect((await service.request('/search?dcname=x', { headers: bearer('reader-secret') })).status).toBe(200)
    for (const path of [
      '/healthz',
      '/readyz',
      '/metrics',
      '/swagger/json',
      '/ui',
      '/ui/configs/datacenter-1',
      '/ui/schemas',
      '/ui/schemas/x',
      '/ui/rollouts',
      '/ui/rollouts/ro-x',
    ]) {
      expect([path, (await service.request(path)).status]).toEqual([path, 200])
    }
  })

  it('when a path no route serves is asked for without a token, then it is 404: it needs no decision', async () => {
    const file = join(tempDir(), 'tokens.yaml')
    writeFileSync(file, `tokens:\n  - { name: r, sha256: ${sha256('reader-secret')}, role: reader }\n`)
    service = await inProcessService({ API_TOKENS_FILE: file, ANONYMOUS_READ: 'false' })
    expect((await service.request('/nowhere')).status).toBe(404)
    expect((await service.request('/configs', { method: 'DELETE' })).status).toBe(405)
  })

  it('when ANONYMOUS_READ=false is set with no token of any kind, then start-up refuses it', async () => {
    await expect(inProcessService({ ANONYMOUS_READ: 'false' })).rejects.toThrow(
      'invalid setting ANONYMOUS_READ: false needs API_TOKEN or API_TOKENS_FILE, or nobody could read',
    )
  })
})

describe('the gate before the body', () => {
  it('when a caller the gate refuses sends a body that never ends, then the refusal comes without a byte of it read', async () => {
    const file = join(tempDir(), 'tokens.yaml')
    writeFileSync(file, `tokens:\n  - { name: r, sha256: ${sha256('reader-secret')}, role: reader }\n`)
    service = await inProcessService({ API_TOKENS_FILE: file })
    for (const [method, path, token, status] of [
      ['POST', '/configs', undefined, 401],
      ['PUT', '/configs/datacenter-1', undefined, 401],
      ['PATCH', '/configs/datacenter-1', 'reader-secret', 403],
      ['POST', '/configs/datacenter-1/rollback', 'reader-secret', 403],
    ] as const) {
      let pulls = 0
      // Nothing is queued ahead (high-water mark 0): a pull means the service read the body.
      const body = new ReadableStream({ pull: () => void pulls++ }, { highWaterMark: 0 })
      const response = await service.request(path, {
        method,
        body,
        headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}) },
        duplex: 'half',
      } as RequestInit)
      expect([method, path, response.status, pulls]).toEqual([method, path, status, 0])
    }
  })
})

describe('no credential configured', () => {
  it('when nothing is configured, then writes are open, a presented token is ignored, and the actor is anonymous', async () => {
    service = await inProcessService({ OTEL_TRACES_EXPORTER: 'none' })
    const create = await service.request('/configs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer('whatever') },
      body: JSON.stringify({ dcname: 'open-1', metadata: {} }),
    })
    expect(create.status).toBe(201)
    expect((await service.request('/configs/open-1', { method: 'DELETE' })).status).toBe(204)
    expect(service.lines.find((line) => line.msg === 'access control')).toMatchObject({
      protected: false,
      anonymousRead: true,
      namedTokens: 0,
      oidc: false,
    })
  })
})

describe('the gate after routing', () => {
  const PRINCIPALS: Record<string, Principal> = {
    w: { actor: 'team-writer', role: 'writer', prefixes: ['payments-'] },
    r: { actor: 'team-reader', role: 'reader' },
  }
  const seen: unknown[] = []

  /** The gate in a bare app, behind a front door, with a route that declares nothing. */
  function gatedApp() {
    const contexts = new RequestContexts(() => 'request-id')
    const declared = routeAccessTable([
      { method: 'GET', path: '/items/:dcname', access: { action: 'get', dcname: { param: 'dcname' } } },
      { method: 'DELETE', path: '/items/:dcname', access: { action: 'delete', dcname: { param: 'dcname' } } },
      { method: 'GET', path: '/open', access: OPEN },
    ])
    const gate = accessGate({
      rules: { protected: true, anonymousRead: true },
      authenticate: async (token) => {
        const principal = PRINCIPALS[token]
        if (principal) return principal
        throw new UnauthenticatedError(true, 'the bearer token is not valid')
      },
      routes: declared,
      contexts,
    })
    const api = new Elysia({ normalize: false, handler: { standardHostname: false } })
      .use(errorHandling(() => {}))
      .use(gate)
      .get('/items/:dcname', ({ requestContext }) => {
        const { route, params, action, dcname, principal } = requestContext
        seen.push({ route, params, action, dcname, actor: principal?.actor })
        return 'item'
      })
      .delete('/items/:dcname', () => new Response(null, { status: 204 }))
      .get('/open', ({ requestContext }) => String(requestContext.principal))
      .get('/undeclared', () => 'served')
    const door = frontDoor({ contexts, route: api.fetch, writeMethods: declared.writeMethods })
    return (method: string, path: string, token?: string) =>
      door.handle(new Request(`http://localhost${path}`, { method, headers: token ? bearer(token) : {} }))
  }

  it('when a route runs behind the gate, then its context names the matched route, its params, the action and the principal', async () => {
    seen.length = 0
    const send = gatedApp()
    expect((await send('GET', '/items/payments-1', 'w')).status).toBe(200)
    expect((await send('HEAD', '/items/billing-1')).status).toBe(200)
    expect(seen).toEqual([
      {
        route: '/items/:dcname',
        params: { dcname: 'payments-1' },
        action: 'get',
        dcname: 'payments-1',
        actor: 'team-writer',
      },
      {
        route: '/items/:dcname',
        params: { dcname: 'billing-1' },
        action: 'get',
        dcname: 'billing-1',
        actor: 'anonymous',
      },
    ])
  })

  it("when the path names a config outside the principal's prefixes or the role may not write, then it is refused", async () => {
    const send = gatedApp()
    expect((await send('GET', '/items/billing-1', 'w')).status).toBe(403)
    expect((await send('DELETE', '/items/payments-1', 'r')).status).toBe(403)
    expect((await send('DELETE', '/items/payments-1')).status).toBe(401)
    expect((await send('DELETE', '/items/payments-1', 'w')).status).toBe(204)
  })

  it('when a route declares nothing, then the gate refuses it', async () => {
    const response = await gatedApp()('GET', '/undeclared', 'w')
    expect(response.status).toBe(403)
    expect(((await response.json()) as { detail: string }).detail).toBe(
      'no access rule is declared for the route /undeclared',
    )
  })

  it('when a route is declared open, then it is served without a principal, whatever the token', async () => {
    const response = await gatedApp()('GET', '/open', 'never-issued')
    expect([response.status, await response.text()]).toEqual([200, 'undefined'])
  })

  it('when a request did not come through the front door, then the router refuses to serve it', async () => {
    const contexts = new RequestContexts(() => 'request-id')
    const gate = accessGate({
      rules: { protected: false, anonymousRead: true },
      authenticate: async () => PRINCIPALS.w as Principal,
      routes: routeAccessTable([{ method: 'GET', path: '/open', access: OPEN }]),
      contexts,
    })
    const api = new Elysia().use(gate).get('/open', () => 'served')
    expect((await api.handle(new Request('http://localhost/open'))).status).toBe(500)
  })
})
