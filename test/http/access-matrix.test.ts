/**
 * The access matrix: each caller (reader, writer, admin, anonymous with ANONYMOUS_READ true and
 * false) x each endpoint x a config inside or outside the caller's prefixes, with the status it
 * gets and what it sees: lists, searches and watches (replay and live) show exactly the configs
 * inside its prefixes, and a refused write changes nothing. Real service processes (Bun, or Deno
 * with TEST_RUNTIME=deno) on real SQLite files, with a tokens file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256 } from '../access/support.ts'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'
import { SseStream } from '../support/sse.ts'

const PREFIX = 'team-a-'
const TOKENS = { reader: 'reader-secret', writer: 'writer-secret', admin: 'admin-secret' }
const tokensFile = join(tempDir('access-matrix-'), 'tokens.yaml')
writeFileSync(
  tokensFile,
  `tokens:
  - { name: team-a-reader, sha256: ${sha256(TOKENS.reader)}, role: reader, prefixes: [${PREFIX}] }
  - { name: team-a-writer, sha256: ${sha256(TOKENS.writer)}, role: writer, prefixes: [${PREFIX}] }
  - { name: ops-admin, sha256: ${sha256(TOKENS.admin)}, role: admin }
`,
)
const services = {
  open: await startServer({ env: { API_TOKENS_FILE: tokensFile, SEED: 'false' } }),
  closed: await startServer({ env: { API_TOKENS_FILE: tokensFile, ANONYMOUS_READ: 'false', SEED: 'false' } }),
}
afterAll(async () => {
  await Promise.all(Object.values(services).map((service) => service.stop()))
})

type Who = 'reader' | 'writer' | 'admin' | 'anonymous' | 'anonymous (ANONYMOUS_READ=false)'
const CALLERS: Record<Who, { service: RunningServer; token?: string; scoped: boolean }> = {
  reader: { service: services.open, token: TOKENS.reader, scoped: true },
  writer: { service: services.open, token: TOKENS.writer, scoped: true },
  admin: { service: services.open, token: TOKENS.admin, scoped: false },
  anonymous: { service: services.open, scoped: false },
  'anonymous (ANONYMOUS_READ=false)': { service: services.closed, scoped: false },
}
const sees = (who: Who) => (dcname: string) => !CALLERS[who].scoped || dcname.startsWith(PREFIX)

type Statuses = Record<Who, number>
/** Expected statuses, in the order reader, writer, admin, anonymous, anonymous (ANONYMOUS_READ=false). */
const S = (reader: number, writer: number, admin: number, anonymous: number, closed: number): Statuses => ({
  reader,
  writer,
  admin,
  anonymous,
  'anonymous (ANONYMOUS_READ=false)': closed,
})

interface Target {
  /** The config the request names (made beforehand by the admin unless the row creates it). */
  dcname: string
  /** Its revision when it was created. */
  firstRevision: number
}
interface Call {
  method: string
  path: string
  body?: unknown
}
interface Row {
  endpoint: string
  /** Where the named config lies for a scoped caller; `scope` rows name none (lists). */
  side: 'inside' | 'outside' | 'scope'
  call: (target: Target) => Call
  expect: Statuses
  /** Whether the row's config exists before the call. */
  exists?: false
}

type CallOf = (target: Target) => Call
const list: CallOf = () => ({ method: 'GET', path: '/configs?limit=1000' })
const search: CallOf = () => ({ method: 'GET', path: '/search?metadata.matrix=true&limit=1000' })
const watch: CallOf = () => ({ method: 'GET', path: '/configs?watch=true&since=0' })
const watchFiltered: CallOf = () => ({ method: 'GET', path: '/configs?watch=true&since=0&metadata.matrix=true' })
const get: CallOf = (t) => ({ method: 'GET', path: `/configs/${t.dcname}` })
const post: CallOf = (t) => ({ method: 'POST', path: '/configs', body: { dcname: t.dcname, metadata: {} } })
const put: CallOf = (t) => ({ method: 'PUT', path: `/configs/${t.dcname}`, body: { metadata: { v: 2 } } })
const patch: CallOf = (t) => ({ method: 'PATCH', path: `/configs/${t.dcname}`, body: { metadata: { v: 3 } } })
const remove: CallOf = (t) => ({ method: 'DELETE', path: `/configs/${t.dcname}` })
const history: CallOf = (t) => ({ method: 'GET', path: `/configs/${t.dcname}/history` })
const rollback: CallOf = (t) => ({
  method: 'POST',
  path: `/configs/${t.dcname}/rollback`,
  body: { revision: t.firstRevision },
})

const MATRIX: Row[] = [
  { endpoint: 'list', side: 'scope', call: list, expect: S(200, 200, 200, 200, 401) },
  { endpoint: 'search', side: 'scope', call: search, expect: S(200, 200, 200, 200, 401) },
  { endpoint: 'watch', side: 'scope', call: watch, expect: S(200, 200, 200, 200, 401) },
  { endpoint: 'watch (filtered)', side: 'scope', call: watchFiltered, expect: S(200, 200, 200, 200, 401) },
  { endpoint: 'get', side: 'inside', call: get, expect: S(200, 200, 200, 200, 401) },
  { endpoint: 'get', side: 'outside', call: get, expect: S(403, 403, 200, 200, 401) },
  { endpoint: 'create', side: 'inside', exists: false, call: post, expect: S(403, 201, 201, 401, 401) },
  { endpoint: 'create', side: 'outside', exists: false, call: post, expect: S(403, 403, 201, 401, 401) },
  { endpoint: 'replace', side: 'inside', call: put, expect: S(403, 200, 200, 401, 401) },
  { endpoint: 'replace', side: 'outside', call: put, expect: S(403, 403, 200, 401, 401) },
  { endpoint: 'replace (creating)', side: 'inside', exists: false, call: put, expect: S(403, 201, 201, 401, 401) },
  { endpoint: 'replace (creating)', side: 'outside', exists: false, call: put, expect: S(403, 403, 201, 401, 401) },
  { endpoint: 'patch', side: 'inside', call: patch, expect: S(403, 200, 200, 401, 401) },
  { endpoint: 'patch', side: 'outside', call: patch, expect: S(403, 403, 200, 401, 401) },
  { endpoint: 'delete', side: 'inside', call: remove, expect: S(403, 204, 204, 401, 401) },
  { endpoint: 'delete', side: 'outside', call: remove, expect: S(403, 403, 204, 401, 401) },
  { endpoint: 'history', side: 'inside', call: history, expect: S(200, 200, 200, 200, 401) },
  { endpoint: 'history', side: 'outside', call: history, expect: S(403, 403, 200, 200, 401) },
  { endpoint: 'rollback', side: 'inside', call: rollback, expect: S(403, 200, 200, 401, 401) },
  { endpoint: 'rollback', side: 'outside', call: rollback, expect: S(403, 403, 200, 401, 401) },
]

function send(who: Who, call: Call, init: RequestInit = {}): Promise<Response> {
  const { service, token } = CALLERS[who]
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  if (call.body !== undefined) headers['content-type'] = 'application/json'
  const body = call.body === undefined ? undefined : JSON.stringify(call.body)
  return fetch(`${service.url}${call.path}`, { method: call.method, headers, body, ...init })
}

async function asAdmin(service: RunningServer, method: string, path: string, body?: unknown): Promise<Response> {
  const headers = { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/json' }
  return fetch(`${service.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

/** Every config name on a service, as the admin lists it. */
async function allNames(service: RunningServer): Promise<string[]> {
  const configs = (await (await asAdmin(service, 'GET', '/configs?limit=1000')).json()) as { dcname: string }[]
  return configs.map((config) => config.dcname)
}

/** The config this case names: a fresh one per case, made (and changed once) by the admin. */
async function prepare(who: Who, row: Row): Promise<Target> {
  const slug = `${row.endpoint}-${who}`.replace(/[^a-z0-9]+/g, '-').replace(/-$/, '')
  const dcname = `${row.side === 'inside' ? PREFIX : 'team-b-'}${slug}`
  const { service } = CALLERS[who]
  if (row.exists === false) return { dcname, firstRevision: 0 }
  const created = await asAdmin(service, 'POST', '/configs', { dcname, metadata: { matrix: true, v: 1 } })
  expect(created.status).toBe(201)
  const firstRevision = Number(created.headers.get('etag')?.replaceAll('"', ''))
  expect((await asAdmin(service, 'PATCH', `/configs/${dcname}`, { metadata: { v: 1.5 } })).status).toBe(200)
  return { dcname, firstRevision }
}

/** The stored state as the admin sees it: what a refused write must leave alone. */
async function state(service: RunningServer, dcname: string): Promise<string> {
  const reply = await asAdmin(service, 'GET', `/configs/${dcname}`)
  return `${reply.status} ${reply.headers.get('etag')} ${await reply.text()}`
}

type Seen = string[]

/**
 * Replays the watch from revision 0, then sees a live write outside and one inside the prefixes
 * (the marker, which ends the reading), beside the admin's unscoped watch of the same service:
 * the caller must be sent exactly the admin's events inside its prefixes, as the admin got them.
 */
async function watchedBeside(who: Who, path: string, reply: Response, abort: AbortController): Promise<[Seen, Seen]> {
  const { service } = CALLERS[who]
  const adminAbort = new AbortController()
  const admins = await fetch(`${service.url}${path}`, {
    headers: { authorization: `Bearer ${TOKENS.admin}` },
    signal: adminAbort.signal,
  })
  const streams = [new SseStream(reply, abort), new SseStream(admins, adminAbort)]
  const marker = `${PREFIX}marker-${crypto.randomUUID().slice(0, 8)}`
  try {
    for (const dcname of [`team-b-${marker}`, marker]) {
      expect((await asAdmin(service, 'POST', '/configs', { dcname, metadata: { matrix: true } })).status).toBe(201)
    }
    const read = async (stream: SseStream) => {
      const seen: Seen = []
      for (;;) {
        const [event] = await stream.events(1)
        if (!event || event.config.dcname === marker) return seen
        seen.push(`${event.revision} ${event.type} ${event.config.dcname}`)
      }
    }
    const [mine, unscoped] = await Promise.all(streams.map(read))
    return [mine as Seen, unscoped as Seen]
  } finally {
    for (const stream of streams) stream.close()
  }
}

function describeRow(row: Row) {
  for (const who of Object.keys(CALLERS) as Who[]) {
    const status = row.expect[who]
    const where = row.side === 'scope' ? '' : ` a config ${row.side} its prefixes`
    it(`when ${who} calls ${row.endpoint}${where}, then it answers ${status}`, async () => {
      const { service } = CALLERS[who]
      const target = row.side === 'scope' ? { dcname: '', firstRevision: 0 } : await prepare(who, row)
      const before = row.side === 'scope' ? '' : await state(service, target.dcname)
      const call = row.call(target)
      const abort = new AbortController()
      const reply = await send(who, call, { signal: abort.signal })
      expect(reply.status).toBe(status)
      if (status >= 400) {
        expect(reply.headers.get('content-type')).toStartWith('application/problem+json')
        expect(((await reply.json()) as { status: number }).status).toBe(status)
      }
      if (row.side === 'scope') {
        if (status === 200) await expectScoped(who, row, reply, abort)
        return
      }
      if (status === 200 && row.endpoint === 'get') expect(await reply.json()).toMatchObject({ dcname: target.dcname })
      abort.abort()
      const after = await state(service, target.dcname)
      if (status >= 400 || call.method === 'GET') expect(after).toBe(before)
      else expect(after).not.toBe(before)
    })
  }
}

/** A list, search or watch shows exactly the configs inside the caller's prefixes, in order. */
async function expectScoped(who: Who, row: Row, reply: Response, abort: AbortController): Promise<void> {
  const { service } = CALLERS[who]
  if (row.endpoint.startsWith('watch')) {
    const [mine, unscoped] = await watchedBeside(who, row.call({ dcname: '', firstRevision: 0 }).path, reply, abort)
    expect(mine).toEqual(unscoped.filter((line) => sees(who)(line.split(' ')[2] as string)))
    expect(mine.length).toBeGreaterThan(0)
    return
  }
  const all = row.endpoint === 'search' ? await matrixNames(service) : await allNames(service)
  const shown = ((await reply.json()) as { dcname: string }[]).map((config) => config.dcname)
  expect(shown).toEqual(all.filter(sees(who)))
  expect(shown.length).toBeGreaterThan(0)
}

/** The configs /search?metadata.matrix=true matches. */
async function matrixNames(service: RunningServer): Promise<string[]> {
  const reply = await asAdmin(service, 'GET', '/search?metadata.matrix=true&limit=1000')
  return ((await reply.json()) as { dcname: string }[]).map((config) => config.dcname)
}

describe('access matrix', () => {
  // Neighbours of the prefix that must stay outside it: no '-', a '.' (the byte after '-'), a '_'.
  beforeAll(async () => {
    for (const service of Object.values(services)) {
      for (const dcname of ['team-a', 'team-a.x', 'team-a_1', `${PREFIX}seed`]) {
        expect((await asAdmin(service, 'POST', '/configs', { dcname, metadata: { matrix: true } })).status).toBe(201)
      }
    }
  })

  for (const row of MATRIX) describeRow(row)

  it('when a scoped caller pages through a list with a small limit, then Link visits exactly its configs once each', async () => {
    const expected = (await allNames(services.open)).filter(sees('reader'))
    expect(expected.length).toBeGreaterThan(3)
    const seen: string[] = []
    let path: string | undefined = '/configs?limit=2'
    while (path) {
      const reply = await send('reader', { method: 'GET', path })
      expect(reply.status).toBe(200)
      const page = (await reply.json()) as { dcname: string }[]
      expect(page.length).toBeGreaterThan(0)
      seen.push(...page.map((config) => config.dcname))
      path = /^<([^>]+)>; rel="next"$/.exec(reply.headers.get('link') ?? '')?.[1]
    }
    expect(seen).toEqual(expected)
  })
})

describe('access matrix: prefix=', () => {
  const namesOf = async (reply: Response) => ((await reply.json()) as { dcname: string }[]).map((c) => c.dcname)
  beforeAll(async () => {
    for (const dcname of [`${PREFIX}pfx-1`, `${PREFIX}sub-1`, 'team-b-pfx-1', 'teamster-1']) {
      expect((await asAdmin(services.open, 'POST', '/configs', { dcname, metadata: { matrix: true } })).status).toBe(
        201,
      )
    }
  })

  it('when a scoped caller lists a prefix wider than its own, then it sees only its configs inside it', async () => {
    const expected = (await allNames(services.open)).filter((n) => n.startsWith('team-') && sees('reader')(n))
    expect(expected.length).toBeGreaterThan(0)
    for (const path of ['/configs?prefix=team-&limit=1000', '/search?prefix=team-&limit=1000']) {
      const reply = await send('reader', { method: 'GET', path })
      expect(reply.status).toBe(200)
      expect(await namesOf(reply)).toEqual(expected)
    }
  })

  it('when a scoped caller lists a prefix outside its own, then it answers 200 with no configs', async () => {
    expect((await allNames(services.open)).some((n) => n.startsWith('team-b-'))).toBe(true)
    for (const path of ['/configs?prefix=team-b-', '/search?prefix=team-b-&metadata.matrix=true']) {
      const reply = await send('reader', { method: 'GET', path })
      expect(reply.status).toBe(200)
      expect(await namesOf(reply)).toEqual([])
    }
  })

  it('when a scoped caller lists a prefix narrower than its own, then it sees the configs starting with it', async () => {
    const narrower = `${PREFIX}sub-`
    const expected = (await allNames(services.open)).filter((n) => n.startsWith(narrower))
    expect(expected.length).toBeGreaterThan(0)
    const reply = await send('reader', { method: 'GET', path: `/configs?prefix=${narrower}&limit=1000` })
    expect(await namesOf(reply)).toEqual(expected)
  })

  it('when a scoped caller watches a prefix wider than its own, then it is sent only its configs inside it', async () => {
    const path = '/configs?watch=true&since=0&prefix=team-'
    const abort = new AbortController()
    const reply = await send('reader', { method: 'GET', path }, { signal: abort.signal })
    expect(reply.status).toBe(200)
    const [mine, unscoped] = await watchedBeside('reader', path, reply, abort)
    expect(unscoped.some((line) => line.includes(' team-b-'))).toBe(true)
    expect(mine).toEqual(unscoped.filter((line) => sees('reader')(line.split(' ')[2] as string)))
  })
})
