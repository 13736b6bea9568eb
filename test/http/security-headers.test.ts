/**
 * Every answer of a real service process (Bun, or Deno with TEST_RUNTIME=deno) carries nosniff,
 * refuses framing and has a Content-Security-Policy: the pages their own, everything else
 * `default-src 'none'`. The same cases as the in-process test (test/app/security-headers.test.ts).
 */
import { afterAll, beforeAll, describe, it } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { rawRequest } from '../support/raw-http.ts'
import { type RunningServer, startServer } from '../support/server.ts'
import { expectSecurityHeaders, headerCases } from './security-header-cases.ts'

const token = randomBytes(16).toString('hex')
let server: RunningServer

beforeAll(async () => {
  server = await startServer({ env: { API_TOKEN: token } })
}, 60_000)

afterAll(async () => {
  await server?.stop()
})

describe('security headers of a service process', () => {
  for (const each of headerCases(token)) {
    it(`when ${each.name} is answered, then it carries nosniff, refuses framing and has the ${each.kind === 'page' ? "page's" : 'API'} policy`, async () => {
      const response = await fetch(`${server.url}${each.path}`, {
        method: each.method,
        headers: each.headers,
        body: each.body,
        redirect: 'manual',
      })
      await response.body?.cancel()
      if (response.status !== each.status) throw new Error(`${each.name}: answered ${response.status}`)
      expectSecurityHeaders(response.headers, each.kind)
    })
  }
})

describe('security headers of answers to requests with no usable Host', () => {
  // Whatever the app answers such a request (the front door's to decide), it carries the headers.
  // (HTTP/1.1 with no Host at all Bun refuses itself, before the app sees it.)
  for (const host of ['', 'x?', 'a b']) {
    it(`when GET /configs is sent with Host ${JSON.stringify(host)}, then the answer carries nosniff, refuses framing and has the API policy`, async () => {
      const reply = await rawRequest(server.url, { method: 'GET', path: '/configs', host })
      expectSecurityHeaders(new Headers(reply.headers), 'other')
    })
  }
})
