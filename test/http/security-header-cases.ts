/**
 * One request of every route family, answered and refused, for the security headers that every
 * answer must carry (src/http/security-headers.ts): run in-process (test/app/) and against a
 * real Bun or Deno process (test/http/). The service runs with API_TOKEN = `token` and its seed.
 */
import { expect } from 'bun:test'

export type Kind = 'page' | 'other'

export interface HeaderCase {
  name: string
  method: string
  path: string
  headers?: Record<string, string>
  body?: string
  status: number
  /** A page has a policy of its own; every other answer the one for answers that are no page. */
  kind: Kind
}

type Case = Omit<HeaderCase, 'name'>

export function headerCases(token: string): HeaderCase[] {
  const json = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
  const page = (path: string, status = 200): Case => ({ method: 'GET', path, status, kind: 'page' })
  const get = (path: string, status = 200, headers?: Record<string, string>): Case => ({
    method: 'GET',
    path,
    headers,
    status,
    kind: 'other',
  })
  const cases: Case[] = [
    get('/configs'),
    get('/configs?limit=abc', 400),
    get('/configs/datacenter-1'),
    { ...get('/configs/datacenter-1'), method: 'HEAD' },
    get('/configs/datacenter-1', 304, { 'if-none-match': '"1"' }),
    get('/configs/datacenter-1?revision=1'),
    get('/configs/nowhere', 404),
    get('/configs/datacenter-1/history'),
    get('/search?metadata.monitoring.enabled=true'),
    get('/configs?watch=true'),
    { method: 'POST', path: '/configs', status: 401, kind: 'other', body: '{}' },
    {
      method: 'POST',
      path: '/configs',
      headers: json,
      body: '{"dcname":"headers-a","metadata":{}}',
      status: 201,
      kind: 'other',
    },
    { method: 'POST', path: '/configs', headers: json, body: '{"dcname":', status: 400, kind: 'other' },
    {
      method: 'PUT',
      path: '/configs/headers-a',
      headers: { ...json, 'if-match': '"1"' },
      body: '{"metadata":{}}',
      status: 412,
      kind: 'other',
    },
    {
      method: 'PATCH',
      path: '/configs/headers-a',
      headers: json,
      body: '{"metadata":{"team":"a"}}',
      status: 200,
      kind: 'other',
    },
    {
      method: 'POST',
      path: '/configs/datacenter-2/rollback',
      headers: json,
      body: '{"revision":2}',
      status: 200,
      kind: 'other',
    },
    { method: 'DELETE', path: '/configs/headers-a', headers: json, status: 204, kind: 'other' },
    { method: 'DELETE', path: '/configs', headers: json, status: 405, kind: 'other' },
    get('/nowhere', 404),
    get('/healthz'),
    get('/readyz'),
    get('/metrics'),
    page('/swagger'),
    get('/swagger/', 308),
    get('/swagger/json'),
    get('/swagger/assets/swagger-ui-bundle.js'),
    get('/swagger/assets/swagger-ui.css'),
    get('/swagger/assets/swagger-initializer.js'),
    page('/ui'),
    page('/ui/configs/datacenter-1'),
    page('/ui/schemas'),
    page('/ui/schemas/payments'),
    page('/ui/rollouts'),
    page('/ui/rollouts/ro-1'),
    get('/ui/assets/main.js'),
    get('/ui/assets/vendor/preact.mjs'),
    get('/ui/assets/console.css'),
    get('/ui/assets/nothing.js', 404),
  ]
  return cases.map((each) => ({ ...each, name: `${each.method} ${each.path} (${each.status})` }))
}

/** The headers of an answer, as a case expects them. */
export function expectSecurityHeaders(headers: Headers, kind: Kind): void {
  const policy = headers.get('content-security-policy') ?? ''
  expect({
    nosniff: headers.get('x-content-type-options'),
    frameOptions: headers.get('x-frame-options'),
    framing: policy.split(';').some((directive) => directive.trim() === "frame-ancestors 'none'"),
    policy: kind === 'page' ? policy.split(';')[0] : policy,
  }).toEqual({
    nosniff: 'nosniff',
    frameOptions: 'DENY',
    framing: true,
    policy: kind === 'page' ? "default-src 'self'" : "default-src 'none'; frame-ancestors 'none'",
  })
}
