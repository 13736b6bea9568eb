/**
 * Hostile and malformed requests: each gets its documented 4xx problem+json, the process stays
 * up, and the stored data is byte-for-byte unchanged afterwards (same list body, same revision).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, expectProblem, httpTarget, type Target, uniquePrefix } from '../support/http.ts'
import { hostileRequests } from './hostile-requests.ts'

let target: Target
let request: ReturnType<typeof client>
const p = uniquePrefix()
const existing = `${p}-existing`
const cases = hostileRequests(p, existing)

async function snapshot() {
  const reply = await request('GET', '/configs?limit=10000')
  expect(reply.status).toBe(200)
  return { body: reply.text, revision: reply.headers.get('x-revision') }
}

beforeAll(async () => {
  target = await httpTarget()
  request = client(target)
  const created = await request('POST', '/configs', {
    body: { dcname: existing, metadata: { monitoring: { enabled: true } } },
  })
  expect(created.status).toBe(201)
})
afterAll(async () => {
  await target.close()
})

describe('bad input', () => {
  it('has at least 40 distinct hostile requests', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length)
    expect(cases.length).toBeGreaterThanOrEqual(40)
  })

  it.each(cases.map((c) => [c.name, c] as const))(
    'when sending %s, then it answers the documented 4xx problem and nothing stored changes',
    async (_name, c) => {
      const before = await snapshot()
      const reply = await request(c.method, c.path, { body: c.body, raw: c.raw, headers: c.headers, auth: c.auth })
      expectProblem(reply, c.status)
      const errors: { pointer: string; message: string }[] = reply.json.errors ?? []
      const pointers = errors.map((e) => e.pointer)
      // One error per cause: a field that fails several checks is still named once.
      expect(pointers).toEqual([...new Set(pointers)])
      if (c.pointer !== undefined) expect(pointers).toContain(c.pointer)
      if (c.message !== undefined) expect(errors.find((e) => e.pointer === c.pointer)?.message).toMatch(c.message)
      if (c.notEchoed !== undefined) expect(reply.text).not.toContain(c.notEchoed)
      expect(await snapshot()).toEqual(before)
    },
  )

  it('when a body nested 32,000 levels is refused, then /healthz is answered meanwhile', async () => {
    const deep = `{"dcname":"${p}-deep","metadata":{},"x":${'['.repeat(32_000)}${']'.repeat(32_000)}}`
    const [refused, health] = await Promise.all([
      request('POST', '/configs', { raw: deep, headers: { 'content-type': 'application/json' } }),
      request('GET', '/healthz'),
    ])
    expectProblem(refused, 400)
    expect(health.status).toBe(200)
  })

  it('when all of that is over, then the process still serves and nothing was polluted', async () => {
    const reply = await request('GET', `/configs/${existing}`)
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual({ dcname: existing, metadata: { monitoring: { enabled: true } } })
    const created = await request('POST', '/configs', { body: { dcname: `${p}-after`, metadata: {} } })
    expect(created.json).toEqual({ dcname: `${p}-after`, metadata: {} })
    expect(created.text).not.toContain('polluted')
  })
})
