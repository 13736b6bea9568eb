/**
 * The black-box HTTP suite: every endpoint and status of the API (README, "The API"), spoken over
 * plain fetch to a real server (Bun by default, Deno with TEST_RUNTIME=deno, or any server at
 * TEST_BASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, expectProblem, httpTarget, revisionOf, type Target, uniquePrefix } from '../support/http.ts'

let target: Target
let request: ReturnType<typeof client>
const p = uniquePrefix()
const name = (suffix: string) => `${p}-${suffix}`

beforeAll(async () => {
  target = await httpTarget()
  request = client(target)
})
afterAll(async () => {
  await target.close()
})

const create = async (dcname: string, metadata: Record<string, unknown> = {}) => {
  const reply = await request('POST', '/configs', { body: { dcname, metadata } })
  expect(reply.status).toBe(201)
  return reply
}

describe('List', () => {
  it('when listing, then the answer is a JSON array sorted by dcname with the store revision', async () => {
    await create(name('list-b'))
    await create(name('list-a'))
    const reply = await request('GET', '/configs?limit=10000')
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-type')).toStartWith('application/json')
    const names: string[] = reply.json.map((c: { dcname: string }) => c.dcname)
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
    expect(names).toContain(name('list-a'))
    expect(Number(reply.headers.get('x-revision'))).toBeGreaterThan(0)
  })
})

describe('Create', () => {
  it('when a valid config is posted, then it answers 201 with the stored config, Location and ETag', async () => {
    const body = { dcname: name('create'), metadata: { monitoring: { enabled: 'true' }, team: { owner: 'sre' } } }
    const reply = await request('POST', '/configs', { body })
    expect(reply.status).toBe(201)
    expect(reply.headers.get('location')).toBe(`/configs/${name('create')}`)
    expect(revisionOf(reply)).toBeGreaterThan(0)
    expect(reply.json).toEqual({
      dcname: name('create'),
      metadata: { monitoring: { enabled: true }, team: { owner: 'sre' } },
    })
  })

  it('when the boolean strings of known fields are sent, then they are stored as booleans', async () => {
    const dcname = name('bools')
    await create(dcname, { monitoring: { enabled: 'false' }, limits: { cpu: { enabled: 'true', value: '2' } } })
    const reply = await request('GET', `/configs/${dcname}`)
    expect(reply.json.metadata).toEqual({
      monitoring: { enabled: false },
      limits: { cpu: { enabled: true, value: '2' } },
    })
  })

  it('when free-form keys are sent, then they are kept exactly as given', async () => {
    const metadata = { custom: { list: [1, 'two', null, { three: 3 }], n: 1.5, flag: 'true', none: null } }
    await create(name('free'), metadata)
    expect((await request('GET', `/configs/${name('free')}`)).json.metadata).toEqual(metadata)
  })

  it('when the dcname is taken, then POST answers 409', async () => {
    await create(name('dup'))
    expectProblem(await request('POST', '/configs', { body: { dcname: name('dup'), metadata: {} } }), 409)
  })
})

describe('Get', () => {
  it('when the config exists, then it answers 200 with its ETag', async () => {
    const created = await create(name('get'), { a: 1 })
    const reply = await request('GET', `/configs/${name('get')}`)
    expect(reply.status).toBe(200)
    expect(reply.headers.get('etag')).toBe(created.headers.get('etag'))
    expect(reply.json).toEqual({ dcname: name('get'), metadata: { a: 1 } })
  })

  it('when If-None-Match matches (strong, weak or *), then it answers 304 with no body', async () => {
    const created = await create(name('cond-get'))
    const tag = created.headers.get('etag') as string
    for (const header of [tag, `W/${tag}`, `"0", ${tag}`, '*']) {
      const reply = await request('GET', `/configs/${name('cond-get')}`, { headers: { 'if-none-match': header } })
      expect(reply.status).toBe(304)
      expect(reply.text).toBe('')
      expect(reply.headers.get('etag')).toBe(tag)
    }
    const changed = await request('GET', `/configs/${name('cond-get')}`, { headers: { 'if-none-match': '"1"' } })
    expect(changed.status).toBe(200)
  })

  it('when the config is missing, then it answers 404 problem+json', async () => {
    expectProblem(await request('GET', `/configs/${name('missing')}`), 404)
  })
})

describe('Replace', () => {
  it('when the config exists, then PUT answers 200 and replaces the whole metadata', async () => {
    const created = await create(name('put'), { old: true, keep: 1 })
    const reply = await request('PUT', `/configs/${name('put')}`, { body: { metadata: { keep: 2 } } })
    expect(reply.status).toBe(200)
    expect(revisionOf(reply)).toBeGreaterThan(revisionOf(created))
    expect((await request('GET', `/configs/${name('put')}`)).json).toEqual({
      dcname: name('put'),
      metadata: { keep: 2 },
    })
  })

  it('when the config is missing, then PUT creates it with 201 and Location', async () => {
    const reply = await request('PUT', `/configs/${name('put-new')}`, {
      body: { dcname: name('put-new'), metadata: {} },
    })
    expect(reply.status).toBe(201)
    expect(reply.headers.get('location')).toBe(`/configs/${name('put-new')}`)
  })

  it('when If-None-Match is *, then PUT only creates', async () => {
    const first = await request('PUT', `/configs/${name('once')}`, {
      body: { metadata: { v: 1 } },
      headers: { 'if-none-match': '*' },
    })
    expect(first.status).toBe(201)
    const second = await request('PUT', `/configs/${name('once')}`, {
      body: { metadata: { v: 2 } },
      headers: { 'if-none-match': '*' },
    })
    expectProblem(second, 412)
    expect((await request('GET', `/configs/${name('once')}`)).json.metadata).toEqual({ v: 1 })
  })
})

describe('Patch (JSON Merge Patch)', () => {
  const patch = (dcname: string, body: unknown, headers: Record<string, string> = {}) =>
    request('PATCH', `/configs/${dcname}`, {
      raw: JSON.stringify(body),
      headers: { 'content-type': 'application/merge-patch+json', ...headers },
    })

  it('when a key is null, then it is removed; objects merge; other values replace', async () => {
    const dcname = name('patch')
    await create(dcname, { monitoring: { enabled: true }, team: { owner: 'a', pager: 'x' }, list: [1, 2], gone: 1 })
    const reply = await patch(dcname, { metadata: { gone: null, team: { pager: null, slack: '#a' }, list: [3] } })
    expect(reply.status).toBe(200)
    const expected = {
      dcname,
      metadata: { monitoring: { enabled: true }, team: { owner: 'a', slack: '#a' }, list: [3] },
    }
    expect(reply.json).toEqual(expected)
    expect((await request('GET', `/configs/${dcname}`)).json).toEqual(expected)
  })

  it('when sent as application/json, then it is applied as a merge patch too', async () => {
    const dcname = name('patch-json')
    await create(dcname, { a: 1 })
    const reply = await request('PATCH', `/configs/${dcname}`, { body: { metadata: { b: 2 } } })
    expect(reply.status).toBe(200)
    expect(reply.json.metadata).toEqual({ a: 1, b: 2 })
  })

  it('when boolean strings are patched into known fields, then they are stored as booleans', async () => {
    const dcname = name('patch-bool')
    await create(dcname, {})
    const reply = await patch(dcname, { metadata: { monitoring: { enabled: 'false' } } })
    expect(reply.json.metadata).toEqual({ monitoring: { enabled: false } })
  })

  it('when the config is missing, then PATCH answers 404', async () => {
    expectProblem(await patch(name('nobody'), { metadata: { a: 1 } }), 404)
  })

  it('when the result would be invalid, then PATCH answers 400 with a pointer and nothing changes', async () => {
    const dcname = name('patch-bad')
    const created = await create(dcname, { limits: { cpu: { value: '1' } } })
    const reply = await patch(dcname, { metadata: { limits: { cpu: { value: 'lots' } } } })
    expectProblem(reply, 400)
    expect(reply.json.errors).toContainEqual(expect.objectContaining({ pointer: '/metadata/limits/cpu/value' }))
    const after = await request('GET', `/configs/${dcname}`)
    expect(after.headers.get('etag')).toBe(created.headers.get('etag'))
  })
})

describe('Delete', () => {
  it('when the config exists, then DELETE answers 204 and it is gone', async () => {
    await create(name('del'))
    const reply = await request('DELETE', `/configs/${name('del')}`)
    expect(reply.status).toBe(204)
    expect(reply.text).toBe('')
    expectProblem(await request('GET', `/configs/${name('del')}`), 404)
    expectProblem(await request('DELETE', `/configs/${name('del')}`), 404)
  })

  it('when DELETE carries a JSON content type but no body, then it still answers 204', async () => {
    await create(name('del-typed'))
    const reply = await request('DELETE', `/configs/${name('del-typed')}`, {
      headers: { 'content-type': 'application/json' },
    })
    expect(reply.status).toBe(204)
  })
})

describe('Conditional writes', () => {
  it('when If-Match differs, then PUT, PATCH and DELETE answer 412 and the config is unchanged', async () => {
    const dcname = name('ifmatch')
    const created = await create(dcname, { v: 1 })
    const stale = `"${revisionOf(created) - 1}"`
    expectProblem(
      await request('PUT', `/configs/${dcname}`, { body: { metadata: { v: 2 } }, headers: { 'if-match': stale } }),
      412,
    )
    expectProblem(
      await request('PATCH', `/configs/${dcname}`, { body: { metadata: { v: 2 } }, headers: { 'if-match': stale } }),
      412,
    )
    expectProblem(await request('DELETE', `/configs/${dcname}`, { headers: { 'if-match': stale } }), 412)
    const after = await request('GET', `/configs/${dcname}`)
    expect(after.json.metadata).toEqual({ v: 1 })
    expect(after.headers.get('etag')).toBe(created.headers.get('etag'))
  })

  it('when If-Match matches, then the write succeeds and the ETag moves forward', async () => {
    const dcname = name('ifmatch-ok')
    const created = await create(dcname, { v: 1 })
    const tag = created.headers.get('etag') as string
    const put = await request('PUT', `/configs/${dcname}`, {
      body: { metadata: { v: 2 } },
      headers: { 'if-match': tag },
    })
    expect(put.status).toBe(200)
    const patched = await request('PATCH', `/configs/${dcname}`, {
      body: { metadata: { v: 3 } },
      headers: { 'if-match': put.headers.get('etag') as string },
    })
    expect(patched.status).toBe(200)
    expect(revisionOf(patched)).toBeGreaterThan(revisionOf(put))
    const deleted = await request('DELETE', `/configs/${dcname}`, {
      headers: { 'if-match': patched.headers.get('etag') as string },
    })
    expect(deleted.status).toBe(204)
  })

  it('when If-Match names a config that does not exist, then the write answers 412', async () => {
    const reply = await request('PUT', `/configs/${name('ghost')}`, {
      body: { metadata: {} },
      headers: { 'if-match': '"1"' },
    })
    expectProblem(reply, 412)
    expectProblem(await request('GET', `/configs/${name('ghost')}`), 404)
  })
})

describe('Search and paging', () => {
  beforeAll(async () => {
    await create(name('s-1'), { monitoring: { enabled: true }, custom: { tier: 'gold', flag: 'true' } })
    await create(name('s-2'), { monitoring: { enabled: false }, custom: { tier: 'gold', flag: true } })
    await create(name('s-3'), { monitoring: { enabled: true }, custom: { tier: 'silver', size: 3 } })
  })
  const names = (reply: { json: { dcname: string }[] }) =>
    reply.json.map((c) => c.dcname).filter((n) => n.startsWith(`${p}-s-`))

  it('when filtering on one field, then only matching configs come back, sorted', async () => {
    const reply = await request('GET', '/search?metadata.custom.tier=gold')
    expect(reply.status).toBe(200)
    expect(names(reply)).toEqual([name('s-1'), name('s-2')])
  })

  it('when several filters are given, then all must match', async () => {
    const reply = await request('GET', '/search?metadata.custom.tier=gold&metadata.monitoring.enabled=true')
    expect(names(reply)).toEqual([name('s-1')])
  })

  it('when the value is true, then it matches both true and "true"', async () => {
    expect(names(await request('GET', '/search?metadata.custom.flag=true'))).toEqual([name('s-1'), name('s-2')])
  })

  it('when filtering on a number or on dcname, then the JSON text must match', async () => {
    expect(names(await request('GET', '/search?metadata.custom.size=3'))).toEqual([name('s-3')])
    expect(names(await request('GET', `/search?dcname=${name('s-2')}`))).toEqual([name('s-2')])
  })

  it('when GET /configs takes the same filters, then it answers the same', async () => {
    const search = await request('GET', '/search?metadata.custom.tier=gold')
    const list = await request('GET', '/configs?metadata.custom.tier=gold')
    expect(list.text).toBe(search.text)
  })

  it('when a limit cuts the result, then Link rel=next pages through everything exactly once', async () => {
    const seen: string[] = []
    let next: string | undefined = '/configs?metadata.custom.tier=gold&limit=1'
    let pages = 0
    while (next) {
      const reply = await request('GET', next)
      expect(reply.status).toBe(200)
      expect(Array.isArray(reply.json)).toBe(true)
      seen.push(...reply.json.map((c: { dcname: string }) => c.dcname))
      const link = reply.headers.get('link')
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined
      pages++
      expect(pages).toBeLessThan(100)
    }
    const all = await request('GET', '/configs?metadata.custom.tier=gold')
    expect(seen).toEqual(all.json.map((c: { dcname: string }) => c.dcname))
    expect(seen.length).toBeGreaterThanOrEqual(2)
  })
})

describe('Errors', () => {
  it('when the route is unknown, then it answers 404 problem+json', async () => {
    expectProblem(await request('GET', '/nothing-here'), 404)
  })

  it('when the method is wrong, then it answers 405 with Allow', async () => {
    const reply = await request('DELETE', '/configs')
    expectProblem(reply, 405)
    expect(reply.headers.get('allow')).toContain('POST')
    const onItem = await request('POST', `/configs/${name('x')}`, { body: { metadata: {} } })
    expectProblem(onItem, 405)
    expect(onItem.headers.get('allow')).toContain('PATCH')
  })

  it('when the body is not JSON, then it answers 415', async () => {
    expectProblem(
      await request('POST', '/configs', { raw: 'dcname=x', headers: { 'content-type': 'text/plain' } }),
      415,
    )
  })

  it('when the body is over the limit, then it answers 413', async () => {
    const big = JSON.stringify({ dcname: name('big'), metadata: { blob: 'x'.repeat(70_000) } })
    expectProblem(await request('POST', '/configs', { raw: big, headers: { 'content-type': 'application/json' } }), 413)
  })
})

describe('Authorization', () => {
  it('when a write has no token, then it answers 401 with WWW-Authenticate and nothing is stored', async () => {
    const reply = await request('POST', '/configs', { body: { dcname: name('noauth'), metadata: {} }, auth: false })
    expectProblem(reply, 401)
    expect(reply.headers.get('www-authenticate')).toStartWith('Bearer')
    expectProblem(await request('GET', `/configs/${name('noauth')}`), 404)
  })

  it('when a write has a wrong token, then it answers 401', async () => {
    await create(name('auth'))
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const reply = await request(method, `/configs/${name('auth')}`, {
        body: method === 'DELETE' ? undefined : { metadata: { changed: true } },
        auth: false,
        headers: { authorization: `Bearer ${target.token}x` },
      })
      expectProblem(reply, 401)
      expect(reply.headers.get('www-authenticate')).toContain('invalid_token')
    }
    expect((await request('GET', `/configs/${name('auth')}`)).json.metadata).toEqual({})
  })

  it('when reading without a token, then reads stay open', async () => {
    expect((await request('GET', '/configs', { auth: false })).status).toBe(200)
    expect((await request('GET', '/search?dcname=x', { auth: false })).status).toBe(200)
  })
})
