/**
 * Every answer matches its route's contract (src/http/contract.ts): for each request of the
 * hostile-input table and a request for each success and failure the API lists, the status is
 * one the route declares, the content type is the declared one, the body passes the declared
 * schema (or is empty where none is declared), and the declared headers are there. Elysia does
 * not check answers against the contracts at run time (see bench/README.md), so this is where a
 * handler that drifts from its contract fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Value } from '@sinclair/typebox/value'
import { CONSUMER_CONTRACTS } from '../../src/http/configs/consumer-contracts.ts'
import { CONFIG_CONTRACTS } from '../../src/http/configs/contracts.ts'
import type { RouteContract } from '../../src/http/contract.ts'
import { HEALTH_CONTRACTS } from '../../src/http/health.ts'
import { routeMatcher } from '../../src/http/route-matcher.ts'
import { sha256 } from '../access/support.ts'
import {
  client,
  httpTarget,
  type Reply,
  type RequestOptions,
  revisionOf,
  type Target,
  uniquePrefix,
} from '../support/http.ts'
import { tempDir } from '../support/server.ts'
import { PROCESS_WAIT_MS } from '../support/wait.ts'
import { hostileRequests } from './hostile-requests.ts'

const CONTRACTS: RouteContract[] = [...CONFIG_CONTRACTS, ...CONSUMER_CONTRACTS, ...HEALTH_CONTRACTS]
const matcher = routeMatcher(() => CONTRACTS)
/** Declared, but only sent when more remain. */
const OPTIONAL_HEADERS = new Set(['link'])

let target: Target
let request: ReturnType<typeof client>
const p = uniquePrefix()
const existing = `${p}-existing`
/** `existing` as created, and a config created then deleted (rolled back to undelete it). */
let existingRevision: number
const deleted = `${p}-deleted`
let deletedRevision: number

interface Exchange {
  method: string
  path: string
  options?: RequestOptions
  /** The status this request must get (what the contract is checked against). */
  status: number
}

/** A request for each status of each route that a healthy service can be made to answer. */
const exchanges = (): Exchange[] => [
  { method: 'GET', path: '/configs', status: 200 },
  { method: 'HEAD', path: '/configs', status: 200 },
  { method: 'GET', path: `/search?dcname=${existing}`, status: 200 },
  { method: 'GET', path: '/configs?limit=1', status: 200 },
  { method: 'POST', path: '/configs', options: { body: { dcname: `${p}-new`, metadata: {} } }, status: 201 },
  { method: 'POST', path: '/configs', options: { body: { dcname: existing, metadata: {} } }, status: 409 },
  { method: 'GET', path: `/configs/${existing}`, status: 200 },
  { method: 'GET', path: `/configs/${existing}`, options: { headers: { 'if-none-match': '*' } }, status: 304 },
  { method: 'GET', path: `/configs/${p}-missing`, status: 404 },
  { method: 'PUT', path: `/configs/${existing}`, options: { body: { metadata: { team: 'a' } } }, status: 200 },
  { method: 'PUT', path: `/configs/${p}-put`, options: { body: { metadata: {} } }, status: 201 },
  { method: 'PATCH', path: `/configs/${existing}`, options: { body: { metadata: { team: 'b' } } }, status: 200 },
  { method: 'PATCH', path: `/configs/${p}-missing`, options: { body: { metadata: {} } }, status: 404 },
  {
    method: 'PATCH',
    path: `/configs/${existing}`,
    options: { body: { metadata: {} }, headers: { 'if-match': '"1"' } },
    status: 412,
  },
  { method: 'DELETE', path: `/configs/${p}-put`, status: 204 },
  { method: 'DELETE', path: `/configs/${p}-missing`, status: 404 },
  { method: 'POST', path: '/configs', options: { body: { dcname: `${p}-x`, metadata: {} }, auth: false }, status: 401 },
  { method: 'GET', path: '/configs?watch=maybe', status: 400 },
  { method: 'GET', path: `/configs/${existing}/history`, status: 200 },
  { method: 'GET', path: `/configs/${existing}/history?limit=1`, status: 200 },
  { method: 'GET', path: `/configs/${p}-missing/history`, status: 404 },
  { method: 'GET', path: `/configs/${existing}?revision=${existingRevision}`, status: 200 },
  {
    method: 'GET',
    path: `/configs/${existing}?revision=${existingRevision}`,
    options: { headers: { 'if-none-match': `"${existingRevision}"` } },
    status: 304,
  },
  { method: 'GET', path: `/configs/${deleted}?revision=${existingRevision}`, status: 404 },
  { method: 'GET', path: `/configs/${existing}?revision=0`, status: 400 },
  {
    method: 'POST',
    path: `/configs/${deleted}/rollback`,
    options: { body: { revision: deletedRevision } },
    status: 201,
  },
  {
    method: 'POST',
    path: `/configs/${deleted}/rollback`,
    options: { body: { revision: deletedRevision } },
    status: 200,
  },
  {
    method: 'POST',
    path: `/configs/${deleted}/rollback`,
    options: { body: { revision: deletedRevision }, headers: { 'if-match': '"1"' } },
    status: 412,
  },
  {
    method: 'POST',
    path: `/configs/${deleted}/rollback`,
    options: { body: { revision: existingRevision } },
    status: 404,
  },
  {
    method: 'POST',
    path: `/configs/${deleted}/rollback`,
    options: { body: { revision: deletedRevision }, auth: false },
    status: 401,
  },
  {
    method: 'PUT',
    path: `/configs/${existing}/consumers/pod-1`,
    options: { body: { revision: existingRevision, state: 'rejected', message: 'no' } },
    status: 200,
  },
  { method: 'GET', path: `/configs/${existing}/consumers`, status: 200 },
  { method: 'GET', path: `/configs/${p}-missing/consumers`, status: 404 },
  {
    method: 'PUT',
    path: `/configs/${existing}/consumers/pod-1`,
    options: { body: { revision: 10 ** 12, state: 'applied' } },
    status: 422,
  },
  {
    method: 'PUT',
    path: `/configs/${existing}/consumers/pod-1`,
    options: { body: { revision: 1, state: 'applied' }, auth: false },
    status: 401,
  },
  { method: 'GET', path: '/healthz', status: 200 },
  { method: 'GET', path: '/readyz', status: 200 },
  { method: 'GET', path: '/configs', options: { headers: as('nobody-issued-this') }, status: 401 },
  { method: 'GET', path: '/configs?watch=true', options: { headers: as('nobody-issued-this') }, status: 401 },
  { method: 'GET', path: '/search', options: { headers: as('nobody-issued-this') }, status: 401 },
  { method: 'GET', path: `/configs/${existing}`, options: { headers: as('nobody-issued-this') }, status: 401 },
  // Named tokens only exist on a server started here (with the tokens file).
  ...(target.server ? accessExchanges() : []),
]

/** Answers of the access rules: a reader writing, a writer outside its prefixes, scoped lists. */
const accessExchanges = (): Exchange[] => {
  const scoped = { headers: as(SCOPED_WRITER) }
  const body = { metadata: {} }
  return [
    { method: 'GET', path: '/configs', options: scoped, status: 200 },
    { method: 'GET', path: `/search?dcname=${existing}`, options: scoped, status: 200 },
    { method: 'GET', path: `/configs/${existing}`, options: scoped, status: 403 },
    {
      method: 'POST',
      path: '/configs',
      options: { ...scoped, body: { dcname: `${p}-out`, metadata: {} } },
      status: 403,
    },
    {
      method: 'POST',
      path: '/configs',
      options: { ...scoped, body: { dcname: `${p}-mine-1`, metadata: {} } },
      status: 201,
    },
    { method: 'PUT', path: `/configs/${existing}`, options: { ...scoped, body }, status: 403 },
    { method: 'PATCH', path: `/configs/${existing}`, options: { ...scoped, body }, status: 403 },
    { method: 'DELETE', path: `/configs/${existing}`, options: scoped, status: 403 },
    { method: 'GET', path: `/configs/${existing}/history`, options: scoped, status: 403 },
    {
      method: 'POST',
      path: `/configs/${existing}/rollback`,
      options: { ...scoped, body: { revision: existingRevision } },
      status: 403,
    },
    {
      method: 'POST',
      path: '/configs',
      options: { headers: as(READER), body: { dcname: `${p}-r`, metadata: {} } },
      status: 403,
    },
  ]
}

const SCOPED_WRITER = 'scoped-writer-secret'
const READER = 'reader-secret'
const as = (token: string) => ({ authorization: `Bearer ${token}` })

beforeAll(async () => {
  // A short history, so that a watch from an early revision is a 410.
  const tokensFile = join(tempDir('contracts-'), 'tokens.yaml')
  writeFileSync(
    tokensFile,
    `tokens:
  - { name: scoped-writer, sha256: ${sha256(SCOPED_WRITER)}, role: writer, prefixes: [${p}-mine-] }
  - { name: reader, sha256: ${sha256(READER)}, role: reader }
`,
  )
  target = await httpTarget({ WATCH_HISTORY_SIZE: '2', API_TOKENS_FILE: tokensFile })
  request = client(target)
  const created = await request('POST', '/configs', { body: { dcname: existing, metadata: {} } })
  expect(created.status).toBe(201)
  existingRevision = revisionOf(created)
  const toDelete = await request('POST', '/configs', { body: { dcname: deleted, metadata: {} } })
  deletedRevision = revisionOf(toDelete)
  expect((await request('DELETE', `/configs/${deleted}`)).status).toBe(204)
})
afterAll(async () => {
  await target.close()
})

/** What is wrong with this answer against the contract of its route; empty when nothing. */
function breaches(method: string, path: string, reply: Reply): string[] {
  const served = method === 'HEAD' ? 'GET' : method
  const pattern = matcher.routeOf(served, path.split('?')[0] as string)
  const contract = CONTRACTS.find((c) => c.path === pattern && c.method === served)
  // No route serves this method here: the app answers 404 or 405 before any route runs.
  if (!contract) return [404, 405].includes(reply.status) ? [] : [`no contract, yet ${reply.status}`]
  const declared = contract.responses[reply.status]
  if (!declared) return [`${contract.operationId} does not declare ${reply.status}`]
  const found: string[] = []
  const type = reply.headers.get('content-type') ?? ''
  if (declared.schema && method !== 'HEAD') {
    const mediaType = declared.mediaType ?? 'application/json'
    if (!type.startsWith(mediaType)) found.push(`content type ${type}, declared ${mediaType}`)
    else if (!Value.Check(declared.schema, reply.json)) {
      const first = [...Value.Errors(declared.schema, reply.json)][0]
      found.push(`body fails the declared schema at ${first?.path}: ${first?.message}`)
    }
  }
  if (!declared.schema && reply.text !== '') found.push(`a body where none is declared: ${reply.text.slice(0, 80)}`)
  for (const name of Object.keys(declared.headers ?? {})) {
    if (!OPTIONAL_HEADERS.has(name.toLowerCase()) && !reply.headers.has(name)) found.push(`no ${name} header`)
  }
  return found
}

describe('route contracts against the answers', () => {
  it('when a revision was dropped by retention, then the 410 of a read and of a rollback at it are declared', async () => {
    // Retention needs a server started with it.
    if (process.env.TEST_BASE_URL) return
    const compacting = await httpTarget({ HISTORY_KEEP: '1', HISTORY_RETENTION_DAYS: '0', WATCH_HISTORY_SIZE: '1' })
    try {
      const send = client(compacting)
      const first = await send('POST', '/configs', { body: { dcname: 'gone', metadata: { n: 1 } } })
      await send('PATCH', '/configs/gone', { body: { metadata: { n: 2 } } })
      const path = `/configs/gone?revision=${revisionOf(first)}`
      let read = await send('GET', path)
      for (const deadline = Date.now() + PROCESS_WAIT_MS; read.status === 200 && Date.now() < deadline; ) {
        await Bun.sleep(100)
        read = await send('GET', path)
      }
      const rollback = await send('POST', '/configs/gone/rollback', { body: { revision: revisionOf(first) } })
      expect([
        { status: read.status, breaches: breaches('GET', path, read) },
        { status: rollback.status, breaches: breaches('POST', '/configs/gone/rollback', rollback) },
      ]).toEqual([
        { status: 410, breaches: [] },
        { status: 410, breaches: [] },
      ])
    } finally {
      await compacting.close()
    }
  })

  it('when every request of the API table is sent, then each answer is the status asked for and matches its contract', async () => {
    const checked: string[] = []
    for (const exchange of exchanges()) {
      const reply = await request(exchange.method, exchange.path, exchange.options)
      const key = `${exchange.method} ${exchange.path} ${reply.status}`
      expect({ key, status: reply.status, breaches: breaches(exchange.method, exchange.path, reply) }).toEqual({
        key,
        status: exchange.status,
        breaches: [],
      })
      checked.push(`${exchange.method} ${reply.status}`)
    }
    expect(new Set(checked).size).toBeGreaterThanOrEqual(15)
  })

  it('when each hostile request is sent, then its 4xx is declared by the route that answered it', async () => {
    for (const hostile of hostileRequests(p, existing)) {
      const { method, path, body, raw, headers, auth } = hostile
      const reply = await request(method, path, { body, raw, headers, auth })
      expect({ name: hostile.name, status: reply.status, breaches: breaches(method, path, reply) }).toEqual({
        name: hostile.name,
        status: hostile.status,
        breaches: [],
      })
    }
  })

  it('when a watch is asked for, then its event stream and its 410 are declared', async () => {
    const controller = new AbortController()
    const stream = await fetch(`${target.base}/configs?watch=true`, { signal: controller.signal })
    const declared = CONFIG_CONTRACTS.find((c) => c.operationId === 'listConfigs')?.responses[200]
    expect(stream.status).toBe(200)
    expect(Object.keys(declared?.alternatives ?? {})).toContain(
      stream.headers.get('content-type')?.split(';')[0] as string,
    )
    controller.abort()
    await stream.body?.cancel().catch(() => {})

    // Only a server started here runs with the short history this needs.
    if (!target.server) return
    for (let i = 0; i < 3; i++) {
      const write = await request('PATCH', `/configs/${existing}`, { body: { metadata: { n: i } } })
      expect(write.status).toBe(200)
    }
    const gone = await request('GET', '/configs?watch=true&since=1')
    expect({ status: gone.status, breaches: breaches('GET', '/configs?watch=true&since=1', gone) }).toEqual({
      status: 410,
      breaches: [],
    })
  })
})
