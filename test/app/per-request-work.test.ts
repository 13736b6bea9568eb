/**
 * Elysia compiles each route's handler from what its hooks and handler read, found in their
 * source: a hook that hands the whole context to a function makes every route build the
 * request's headers as an object, parse its cookies and its query string, on every request.
 * No route of the service reads those from Elysia's context, so none may build them. It also
 * awaits a hook whose source looks as if it could return a promise: with no credential
 * configured, the hooks every GET runs after routing (the request's context, the access gate)
 * can return none, and are called without.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { inProcessService } from '../observability/in-process.ts'

let service: Awaited<ReturnType<typeof inProcessService>>

beforeAll(async () => {
  service = await inProcessService()
  // Routes are compiled on first use.
  expect((await service.request('/configs/datacenter-1')).status).toBe(200)
})

afterAll(() => service.close())

describe('the work compiled into every request', () => {
  it('when the service is composed, then no route builds the headers object, the cookies or the query', () => {
    const routes = service.app.routes as unknown as { method: string; path: string; compile(): unknown }[]
    expect(routes.length).toBeGreaterThan(10)
    for (const route of routes) {
      const code = String(route.compile())
      expect({
        route: `${route.method} ${route.path}`,
        headers: code.includes('headers.toJSON()'),
        cookies: code.includes('parseCookie('),
        query: code.includes('parseQueryFromURL('),
      }).toEqual({ route: `${route.method} ${route.path}`, headers: false, cookies: false, query: false })
    }
  })

  it('when no credential is configured, then every GET route runs the hooks after routing without awaiting them', () => {
    const routes = service.app.routes as unknown as { method: string; path: string; compile(): unknown }[]
    const gets = routes.filter((route) => route.method === 'GET')
    expect(gets.length).toBeGreaterThan(5)
    for (const route of gets) {
      const code = String(route.compile())
      expect({
        route: route.path,
        hooks: (code.match(/e\.transform\[\d+\]\(c\)/g) ?? []).length,
        awaited: code.includes('await e.transform['),
      }).toEqual({ route: route.path, hooks: 2, awaited: false })
    }
  })
})
