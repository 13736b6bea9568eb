/**
 * HTTP at its edges, spoken over bare sockets where fetch would hide the case: short Host
 * headers (a Kubernetes Service named `api`), patch formats other than merge patch, and
 * oversized bodies sent by clients that write the whole body before reading the answer.
 * Runs against Bun, or Deno with TEST_RUNTIME=deno, like every suite in test/http.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, expectProblem, httpTarget, type Target, uniquePrefix } from '../support/http.ts'
import { type RawReply, rawRequest } from '../support/raw-http.ts'

let target: Target
let request: ReturnType<typeof client>
const p = uniquePrefix()
const existing = `${p}-edge`
const MAX_BODY_BYTES = 65536
const MiB = 1024 * 1024

beforeAll(async () => {
  target = await httpTarget({ MAX_BODY_BYTES: String(MAX_BODY_BYTES) })
  request = client(target)
  const created = await request('POST', '/configs', {
    body: { dcname: existing, metadata: { monitoring: { enabled: true } } },
  })
  expect(created.status).toBe(201)
})
afterAll(async () => {
  await target.close()
})

function expectRawProblem(reply: RawReply, status: number): void {
  expectProblem({ ...reply, headers: new Headers(reply.headers) }, status)
}

async function snapshot() {
  const reply = await request('GET', '/configs?limit=10000')
  expect(reply.status).toBe(200)
  return { body: reply.text, revision: reply.headers.get('x-revision') }
}

describe('Host header', () => {
  const hosts = ['x', 'ab', 'cfg', 'api', 'x:80', 'ab:4999', 'cfg:1']

  it.each(hosts)('when the Host header is %p, then every route is found as with any other host', async (host) => {
    const get = await rawRequest(target.base, { method: 'GET', path: `/configs/${existing}?x=1`, host })
    expect(get.status).toBe(200)
    expect(get.json.dcname).toBe(existing)

    const search = await rawRequest(target.base, { method: 'GET', path: `/search?dcname=${existing}`, host })
    expect(search.status).toBe(200)
    expect(search.json).toEqual([get.json])

    const health = await rawRequest(target.base, { method: 'GET', path: '/healthz', host })
    expect(health.status).toBe(200)

    const patch = await rawRequest(target.base, {
      method: 'PATCH',
      path: `/configs/${existing}`,
      host,
      headers: { 'content-type': 'application/merge-patch+json', authorization: `Bearer ${target.token}` },
      body: JSON.stringify({ metadata: { host } }),
    })
    expect(patch.status).toBe(200)
    expect(patch.json.metadata.host).toBe(host)

    const missing = await rawRequest(target.base, { method: 'GET', path: `/configs/${p}-missing`, host })
    expectRawProblem(missing, 404)
    expect(missing.json.type).toBe('urn:config-service:problem:not-found')
  })

  it('when the Host header carries the real port, then it is served the same', async () => {
    const host = `a:${new URL(target.base).port}`
    const reply = await rawRequest(target.base, { method: 'GET', path: `/configs/${existing}`, host })
    expect(reply.status).toBe(200)
  })
})

describe('PATCH formats', () => {
  it('when a JSON Patch (application/json-patch+json) is sent, then it answers 415 naming merge patch, and nothing changes', async () => {
    const before = await snapshot()
    const reply = await request('PATCH', `/configs/${existing}`, {
      raw: JSON.stringify([{ op: 'replace', path: '/metadata/monitoring/enabled', value: false }]),
      headers: { 'content-type': 'application/json-patch+json' },
    })
    expectProblem(reply, 415)
    expect(reply.json.detail).toContain('application/merge-patch+json')
    expect(reply.json.detail).toContain('application/json-patch+json')
    expect(reply.headers.get('accept-patch')).toBe('application/merge-patch+json')
    expect(await snapshot()).toEqual(before)
  })

  it('when another JSON-based type is sent to PATCH, then it answers 415 too', async () => {
    const reply = await request('PATCH', `/configs/${existing}`, {
      raw: JSON.stringify({ metadata: { team: 'x' } }),
      headers: { 'content-type': 'application/vnd.example+json' },
    })
    expectProblem(reply, 415)
  })

  it.each(['application/merge-patch+json', 'application/merge-patch+json; charset=utf-8', 'application/json'])(
    'when a merge patch is sent as %p, then it is applied',
    async (contentType) => {
      const reply = await request('PATCH', `/configs/${existing}`, {
        raw: JSON.stringify({ metadata: { format: contentType } }),
        headers: { 'content-type': contentType },
      })
      expect(reply.status).toBe(200)
      expect(reply.json.metadata.format).toBe(contentType)
    },
  )
})

describe('oversized bodies, written in full before the answer is read', () => {
  const body = (bytes: number) => {
    const head = `{"dcname":"${p}-big","metadata":{"x":"`
    return `${head}${'y'.repeat(bytes - head.length - 3)}"}}`
  }
  const sizes: [string, number][] = [
    ['one byte over MAX_BODY_BYTES', MAX_BODY_BYTES + 1],
    ['twice MAX_BODY_BYTES plus one', 2 * MAX_BODY_BYTES + 1],
    ['half a MiB', MiB / 2],
    ['1 MiB', MiB],
    ['2 MiB', 2 * MiB],
    ['8 MiB', 8 * MiB],
  ]

  it.each(sizes)(
    'when the body is %s, then the client reads the 413 problem and nothing is stored',
    async (_, bytes) => {
      const before = await snapshot()
      const sent = body(bytes)
      expect(sent.length).toBe(bytes)
      const reply = await rawRequest(target.base, {
        method: 'POST',
        path: '/configs',
        host: 'localhost',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
        body: sent,
      })
      expectRawProblem(reply, 413)
      expect(reply.json.detail).toContain(String(MAX_BODY_BYTES))
      expect(await snapshot()).toEqual(before)
    },
  )

  it('when the body is exactly MAX_BODY_BYTES, then it is stored', async () => {
    const reply = await rawRequest(target.base, {
      method: 'POST',
      path: '/configs',
      host: 'localhost',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
      body: body(MAX_BODY_BYTES),
    })
    expect(reply.status).toBe(201)
  })
})
