/**
 * The post-deploy smoke suite, black-box over plain fetch: `make smoke URL=http://host:port`
 * runs it against any running instance (the minikube URL the deploy prints, a port-forward);
 * SMOKE_TOKEN, when the instance requires a token, is sent with every request (production
 * needs one for reads too). Without SMOKE_URL (in `make test`) it starts a server of its own,
 * set as the production overlay sets it: a token, and no anonymous reads. It touches only one
 * config of its own, named `smoke-<random>`, and deletes it again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { expectProblem } from '../support/http.ts'
import { type RunningServer, startServer } from '../support/server.ts'

let base: string
let token: string | undefined
let server: RunningServer | undefined
const dcname = `smoke-${crypto.randomUUID().slice(0, 8)}`

beforeAll(async () => {
  const url = process.env.SMOKE_URL
  if (url) {
    base = url.replace(/\/+$/, '')
    token = process.env.SMOKE_TOKEN || undefined
  } else {
    token = `smoke-${crypto.randomUUID()}`
    server = await startServer({ env: { API_TOKEN: token, ANONYMOUS_READ: 'false' } })
    base = server.url
  }
}, 60_000)

afterAll(async () => {
  // Whatever failed above, leave nothing behind.
  await call('DELETE', `/configs/${dcname}`).catch(() => {})
  await server?.stop()
})

async function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = contentType
  if (token) headers.authorization = `Bearer ${token}`
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  let json: unknown
  try {
    json = text === '' ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

describe(`smoke: ${process.env.SMOKE_URL ?? 'a server of its own'}`, () => {
  it('when probed, then it is alive and ready', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200)
    const ready = await call('GET', '/readyz')
    expect([ready.status, ready.text]).toEqual([200, expect.any(String)])
  })

  it('when configs are listed, then the answer is a JSON array', async () => {
    const listed = await call('GET', '/configs')
    expect(listed.status).toBe(200)
    expect(Array.isArray(listed.json)).toBe(true)
  })

  it('when a config is created, read, patched, searched and deleted, then each step answers as documented', async () => {
    const created = await call('POST', '/configs', { dcname, metadata: { monitoring: { enabled: true } } })
    if (created.status === 401) {
      throw new Error('the instance requires a token: set SMOKE_TOKEN (make smoke URL=... with it exported)')
    }
    expect(created.status).toBe(201)
    expect(created.headers.get('location')).toBe(`/configs/${dcname}`)
    const got = await call('GET', `/configs/${dcname}`)
    expect([got.status, got.json]).toEqual([200, { dcname, metadata: { monitoring: { enabled: true } } }])
    const patched = await call(
      'PATCH',
      `/configs/${dcname}`,
      { metadata: { smoke: true } },
      'application/merge-patch+json',
    )
    expect([patched.status, patched.json]).toEqual([
      200,
      { dcname, metadata: { monitoring: { enabled: true }, smoke: true } },
    ])
    const found = await call('GET', `/search?dcname=${dcname}&metadata.smoke=true`)
    expect([found.status, found.json]).toEqual([200, [patched.json]])
    expect((await call('DELETE', `/configs/${dcname}`)).status).toBe(204)
    expectProblem(await call('GET', `/configs/${dcname}`), 404)
  })

  it('when the input is bad, then the answer is a 4xx problem, never a 5xx', async () => {
    const bad = await call('POST', '/configs', { dcname: 'Not A Name!', metadata: {} })
    expect(bad.status).toBeGreaterThanOrEqual(400)
    expect(bad.status).toBeLessThan(500)
    expect(bad.headers.get('content-type')).toStartWith('application/problem+json')
  })

  it('when the API docs are asked for, then the Swagger UI and the OpenAPI document answer', async () => {
    const ui = await call('GET', '/swagger')
    expect([ui.status, ui.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/html')])
    const doc = await call('GET', '/swagger/json')
    expect([doc.status, typeof (doc.json as { openapi?: unknown })?.openapi]).toEqual([200, 'string'])
  })

  it('when /metrics is asked of the API port, then it is either the metrics or, with METRICS_PORT, a 404', async () => {
    const metrics = await call('GET', '/metrics')
    if (metrics.status === 404) expectProblem(metrics, 404)
    else expect([metrics.status, metrics.text]).toEqual([200, expect.stringContaining('# TYPE http_requests_total')])
  })
})
