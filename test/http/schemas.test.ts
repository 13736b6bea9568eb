/**
 * Config schemas over plain HTTP against a real server process (Bun by default, Deno with
 * TEST_RUNTIME=deno): schemas as versioned objects, every config write checked (422 with each
 * violation), warn mode's Warning header, changing a schema over existing configs, dry runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, expectProblem, httpTarget, revisionOf, type Target, uniquePrefix } from '../support/http.ts'

let target: Target
let request: ReturnType<typeof client>
const p = uniquePrefix().toLowerCase()
/** Each test its own prefix and schema name, so they stay apart on one server. */
let n = 0
const fresh = () => `${p}-${++n}`

const replicas = (prefix: string, mode = 'enforce') => ({
  prefix,
  mode,
  schema: {
    type: 'object',
    properties: { replicas: { type: 'integer', minimum: 1, maximum: 50 } },
    required: ['replicas'],
  },
})

beforeAll(async () => {
  target = await httpTarget()
  request = client(target)
})
afterAll(async () => {
  await target.close()
})

/** A schema named as its prefix (without the dash) governing `<name>-`. */
async function governed(mode = 'enforce'): Promise<{ name: string; prefix: string; revision: number }> {
  const name = fresh()
  const reply = await request('PUT', `/schemas/${name}`, { body: replicas(`${name}-`, mode) })
  expect(reply.status, reply.text).toBe(201)
  return { name, prefix: `${name}-`, revision: revisionOf(reply) }
}

describe('Schemas as objects', () => {
  it('when a schema is put, then it is answered by GET with its revision as ETag', async () => {
    const { name, prefix, revision } = await governed()
    const reply = await request('GET', `/schemas/${name}`)
    expect(reply.status).toBe(200)
    expect(revisionOf(reply)).toBe(revision)
    expect(reply.json).toEqual({ name, revision, ...replicas(prefix) })
  })

  it('when schemas are listed, then the new one is among them', async () => {
    const { name } = await governed()
    const reply = await request('GET', '/schemas')
    expect(reply.json.map((s: { name: string }) => s.name)).toContain(name)
  })

  it('when If-Match names an older revision, then the schema write is refused with 412', async () => {
    const { name, prefix, revision } = await governed()
    const reply = await request('PUT', `/schemas/${name}`, {
      body: replicas(prefix, 'warn'),
      headers: { 'if-match': `"${revision - 1}"` },
    })
    expectProblem(reply, 412)
  })

  it('when a schema refers to a remote document, then it is refused with one 422 problem', async () => {
    const name = fresh()
    const reply = await request('PUT', `/schemas/${name}`, {
      body: { prefix: `${name}-`, mode: 'enforce', schema: { $ref: 'https://example.com/s.json' } },
    })
    expectProblem(reply, 422)
    expect(reply.json.type).toBe('urn:config-service:problem:invalid-schema')
    expectProblem(await request('GET', `/schemas/${name}`), 404)
  })

  it('when a schema is deleted, then writes it refused pass', async () => {
    const { name, prefix } = await governed()
    expect((await request('DELETE', `/schemas/${name}`)).status).toBe(204)
    const reply = await request('POST', '/configs', { body: { dcname: `${prefix}a`, metadata: {} } })
    expect(reply.status).toBe(201)
  })
})

describe('Config writes checked against their schema', () => {
  it('when a create breaks the enforce schema, then it answers 422 with each violation and stores nothing', async () => {
    const { prefix } = await governed()
    const dcname = `${prefix}a`
    const reply = await request('POST', '/configs', { body: { dcname, metadata: { replicas: 0 } } })
    expectProblem(reply, 422)
    expect(reply.json.errors).toEqual([{ pointer: '/metadata/replicas', keyword: 'minimum', message: 'must be >= 1' }])
    expectProblem(await request('GET', `/configs/${dcname}`), 404)
  })

  it('when a merge patch would break the schema, then the merged result is refused with 422', async () => {
    const { prefix } = await governed()
    const dcname = `${prefix}a`
    expect((await request('POST', '/configs', { body: { dcname, metadata: { replicas: 2 } } })).status).toBe(201)
    const reply = await request('PATCH', `/configs/${dcname}`, { body: { metadata: { replicas: null } } })
    expectProblem(reply, 422)
    expect(reply.json.errors.map((e: { keyword: string }) => e.keyword)).toEqual(['required'])
  })

  it('when a refused value is large, then the problem does not echo it', async () => {
    const { prefix } = await governed()
    const large = 'v'.repeat(10_000)
    const reply = await request('POST', '/configs', { body: { dcname: `${prefix}a`, metadata: { replicas: large } } })
    expectProblem(reply, 422)
    expect(reply.text).not.toContain('vvvvvvvvvv')
  })

  it('when the schema is in warn mode, then a breaking write is stored with a Warning 299 header', async () => {
    const { prefix } = await governed('warn')
    const reply = await request('PUT', `/configs/${prefix}a`, { body: { metadata: { replicas: 99 } } })
    expect(reply.status).toBe(201)
    expect(reply.headers.get('warning')).toMatch(/^299 - ".*\/metadata\/replicas \(maximum\).*"$/)
  })
})

describe('Changing a schema over existing configs', () => {
  it('when configs break a new enforce schema, then it is refused with 422 listing them', async () => {
    const name = fresh()
    await request('POST', '/configs', { body: { dcname: `${name}-a`, metadata: { replicas: 0 } } })
    const reply = await request('PUT', `/schemas/${name}`, { body: replicas(`${name}-`) })
    expectProblem(reply, 422)
    expect(reply.json.total).toBe(1)
    expect(reply.json.violators.map((v: { dcname: string }) => v.dcname)).toEqual([`${name}-a`])
    expectProblem(await request('GET', `/schemas/${name}`), 404)
  })

  it('when it is forced, then it is stored and the violations route lists the violators', async () => {
    const name = fresh()
    await request('POST', '/configs', { body: { dcname: `${name}-a`, metadata: { replicas: 0 } } })
    const reply = await request('PUT', `/schemas/${name}?force=true`, { body: replicas(`${name}-`) })
    expect(reply.status).toBe(201)
    expect(reply.headers.get('warning')).toStartWith('299 - ')
    const violations = await request('GET', `/schemas/${name}/violations`)
    expect(violations.json.items.map((v: { dcname: string }) => v.dcname)).toEqual([`${name}-a`])
  })
})

describe('Dry runs', () => {
  it('when a create is a dry run, then it answers the config it would store and stores nothing', async () => {
    const dcname = `${fresh()}-a`
    const reply = await request('POST', '/configs?dryRun=true', { body: { dcname, metadata: { team: 'x' } } })
    expect(reply.status).toBe(201)
    expect(reply.json).toEqual({ dcname, metadata: { team: 'x' } })
    expectProblem(await request('GET', `/configs/${dcname}`), 404)
  })

  it('when a dry run breaks a schema, then it answers the 422 the write would', async () => {
    const { prefix } = await governed()
    expectProblem(await request('POST', '/configs?dryRun=All', { body: { dcname: `${prefix}a`, metadata: {} } }), 422)
  })

  it('when a schema write is a dry run, then nothing is stored', async () => {
    const name = fresh()
    const reply = await request('PUT', `/schemas/${name}?dryRun=true`, { body: replicas(`${name}-`) })
    expect(reply.status).toBe(201)
    expectProblem(await request('GET', `/schemas/${name}`), 404)
  })

  it('when dryRun has another value, then the write is refused with 400', async () => {
    expectProblem(await request('POST', '/configs?dryRun=yes', { body: { dcname: `${fresh()}-a`, metadata: {} } }), 400)
  })
})
