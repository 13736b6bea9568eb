/**
 * The access gate through the real service (buildService, in-process) for the rules that do not
 * need a second process: ANONYMOUS_READ=false, a service with no credential at all, and what a
 * handler gets from the gate (`access`) for the finer checks of its route.
 */
import { afterEach, describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { accessGate } from '../../src/http/auth.ts'
import { errorHandling } from '../../src/http/errors.ts'
import { routeMatcher } from '../../src/http/route-matcher.ts'
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
    for (const path of ['/configs', '/configs/datacenter-1', '/search?dcname=x', '/configs?watch=true', '/nowhere']) {
      const response = await service.request(path)
      expect([path, response.status]).toEqual([path, 401])
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="config-service"')
    }
    expect((await service.request('/configs/datacenter-1', { headers: bearer('reader-secret') })).status).toBe(200)
    expect((await service.request('/search?dcname=x', { headers: bearer('reader-secret') })).status).toBe(200)
    for (const path of ['/healthz', '/readyz', '/metrics', '/swagger/json', '/ui', '/ui/configs/datacenter-1']) {
      expect([path, (await service.request(path)).status]).toEqual([path, 200])
    }
  })

  it('when ANONYMOUS_READ=false is set with no token of any kind, then start-up refuses it', async () => {
    await expect(inProcessService({ ANONYMOUS_READ: 'false' })).rejects.toThrow(
      'invalid setting ANONYMOUS_READ: false needs API_TOKEN or API_TOKENS_FILE, or nobody could read',
    )
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

describe('the gate in a handler', () => {
  it('when a route runs behind the gate, then its context has the principal, the actor and the checks for its route', async () => {
    const seen: unknown[] = []
    const gate = accessGate({
      rules: { protected: true, anonymousRead: true },
      authenticate: async (token) => {
        if (token === 'w') return { actor: 'team-writer', role: 'writer', prefixes: ['payments-'] }
        throw new Error('unexpected token')
      },
      routes: routeMatcher(() => [
        { method: 'GET', path: '/items' },
        { method: 'GET', path: '/items/:dcname' },
      ]),
    })
    const app = new Elysia()
      .use(errorHandling({ allowedMethods: () => undefined }, () => {}))
      .use(gate)
      .get('/items', ({ access }) => {
        seen.push({ actor: access.actor, role: access.principal?.role })
        access.authorize('list')
        return ['payments-1', 'billing-1', 'payments-2'].filter((name) => access.visible(name))
      })
      .post('/items', ({ access, body }) => {
        access.authorize('create', (body as { dcname: string }).dcname)
        return 'created'
      })
    const request = (method: string, path: string, token?: string, body?: unknown) =>
      app.handle(
        new Request(`http://localhost${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      )
    expect(await (await request('GET', '/items', 'w')).json()).toEqual(['payments-1', 'payments-2'])
    expect(await (await request('GET', '/items')).json()).toEqual(['payments-1', 'billing-1', 'payments-2'])
    expect(seen).toEqual([
      { actor: 'team-writer', role: 'writer' },
      { actor: 'anonymous', role: 'reader' },
    ])
    expect((await request('POST', '/items', 'w', { dcname: 'payments-3' })).status).toBe(200)
    const outside = await request('POST', '/items', 'w', { dcname: 'billing-3' })
    expect(outside.status).toBe(403)
    expect(((await outside.json()) as { detail: string }).detail).toBe(
      'team-writer may not access "billing-3": outside its prefixes',
    )
  })
})
