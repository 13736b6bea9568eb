/**
 * Schema history, rollback and watch over plain HTTP against a real server process (Bun by
 * default, Deno with TEST_RUNTIME=deno): every schema write is kept and paged as config history
 * is, a past state is read with `?revision=N` and written again by a rollback (through the same
 * checks as a PUT), and `GET /schemas?watch=true` streams schema writes, resumable with `since`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { Value } from '@sinclair/typebox/value'
import { rollbackSchema, schemaHistory } from '../../src/http/schemas/history-contracts.ts'
import { client, expectProblem, httpTarget, revisionOf, type Target, uniquePrefix } from '../support/http.ts'
import { type SseMessage, SseStream } from '../support/sse.ts'

let target: Target
let request: ReturnType<typeof client>
const p = uniquePrefix().toLowerCase()
let n = 0
const fresh = () => `${p}-h${++n}`

const enforce = (prefix: string) => ({
  prefix,
  mode: 'enforce',
  schema: { type: 'object', properties: { replicas: { type: 'integer', maximum: 50 } }, required: ['replicas'] },
})
const loose = (prefix: string) => ({ prefix, mode: 'warn', schema: { type: 'object' } })

beforeAll(async () => {
  target = await httpTarget()
  request = client(target)
})
const streams: SseStream[] = []
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close()
})
afterAll(async () => {
  await target.close()
})

async function put(name: string, body: unknown): Promise<number> {
  const reply = await request('PUT', `/schemas/${name}`, { body })
  expect(reply.status, reply.text).toBeLessThan(300)
  return revisionOf(reply)
}

/** A schema written twice: enforce, then loose (warn). */
async function twice(): Promise<{ name: string; prefix: string; first: number; second: number }> {
  const name = fresh()
  const prefix = `${name}-`
  const first = await put(name, enforce(prefix))
  const second = await put(name, loose(prefix))
  return { name, prefix, first, second }
}

async function watchSchemas(query = '', headers: Record<string, string> = {}): Promise<SseStream | Response> {
  const abort = new AbortController()
  const response = await fetch(`${target.base}/schemas?watch=true${query}`, { headers, signal: abort.signal })
  if (response.status !== 200) return response
  const stream = new SseStream(response, abort)
  streams.push(stream)
  return stream
}

/** The next schema events of `stream` named `name` (others' writes on the shared server are skipped). */
async function eventsOf(stream: SseStream, name: string, count: number) {
  const found: { type: string; revision: number; rollbackOf?: number; schema: Record<string, unknown> }[] = []
  while (found.length < count) {
    const message = (await stream.next(10_000)) as SseMessage
    if (!message) throw new Error(`the stream ended after ${found.length} events`)
    const event = JSON.parse(message.data)
    expect(message.id).toBe(String(event.revision))
    // Every event of a schema watch is a schema's: a config write never shows here.
    expect(Object.keys(event.schema ?? {}).sort()).toEqual(['mode', 'name', 'prefix', 'revision', 'schema'])
    if (event.schema.name === name) found.push(event)
  }
  return found
}

describe('Schema history', () => {
  it('when a schema is created, replaced and deleted, then its history lists each write newest first', async () => {
    const { name, prefix, first, second } = await twice()
    const deleted = await request('DELETE', `/schemas/${name}`)
    expect(deleted.status).toBe(204)
    const reply = await request('GET', `/schemas/${name}/history`)
    expect(reply.status).toBe(200)
    expect(reply.json.map((e: { type: string }) => e.type)).toEqual(['DELETED', 'MODIFIED', 'ADDED'])
    expect(reply.json.slice(1).map((e: { revision: number }) => e.revision)).toEqual([second, first])
    expect(reply.json[0].revision).toBeGreaterThan(second)
    expect(reply.json[2]).toMatchObject({ actor: 'api-token', schema: { name, ...enforce(prefix) } })
    expect(typeof reply.json[2].requestId).toBe('string')
    expect(reply.json[0].schema).toEqual({ name, ...loose(prefix) })
    // As its contract (and so the OpenAPI document) says.
    expect(Value.Check(schemaHistory.responses[200]?.schema as never, reply.json)).toBe(true)
  })

  it('when history is paged, then Link leads to the older entries', async () => {
    const { name, first } = await twice()
    const page = await request('GET', `/schemas/${name}/history?limit=1`)
    const link = /<([^>]+)>; rel="next"/.exec(page.headers.get('link') ?? '')?.[1]
    expect(link).toBeDefined()
    const next = await request('GET', link as string)
    expect(next.json.map((e: { revision: number }) => e.revision)).toEqual([first])
    expect(next.headers.get('link')).toBeNull()
  })

  it('when a schema never existed or the query is unknown, then 404 and 400', async () => {
    expectProblem(await request('GET', `/schemas/${fresh()}/history`), 404)
    const { name } = await twice()
    expectProblem(await request('GET', `/schemas/${name}/history?since=1`), 400)
  })

  it('when a schema is read at a revision, then it answers the state then, with the ETag of its write', async () => {
    const { name, prefix, first, second } = await twice()
    const then = await request('GET', `/schemas/${name}?revision=${second - 1}`)
    expect(then.status).toBe(200)
    expect(revisionOf(then)).toBe(first)
    expect(then.json).toEqual({ name, revision: first, ...enforce(prefix) })
    expectProblem(await request('GET', `/schemas/${name}?revision=${first - 1}`), 404)
    expectProblem(await request('GET', `/schemas/${name}?revision=${second + 1_000_000}`), 400)
    expectProblem(await request('GET', `/schemas/${name}?revision=abc`), 400)
  })
})

describe('Schema rollback', () => {
  it('when a schema is rolled back, then the old state is the newest revision and its entry names it', async () => {
    const { name, prefix, first, second } = await twice()
    const reply = await request('POST', `/schemas/${name}/rollback`, { body: { revision: first } })
    expect(reply.status, reply.text).toBe(200)
    expect(revisionOf(reply)).toBeGreaterThan(second)
    expect(reply.json).toEqual({ name, revision: revisionOf(reply), ...enforce(prefix) })
    const [entry] = (await request('GET', `/schemas/${name}/history?limit=1`)).json
    expect(entry).toMatchObject({ type: 'MODIFIED', revision: revisionOf(reply), rollbackOf: first })
    expect(Value.Check(rollbackSchema.responses[200]?.schema as never, reply.json)).toBe(true)
  })

  it('when a deleted schema is rolled back, then it exists again: 201', async () => {
    const { name, second } = await twice()
    await request('DELETE', `/schemas/${name}`)
    const reply = await request('POST', `/schemas/${name}/rollback`, { body: { revision: second } })
    expect(reply.status, reply.text).toBe(201)
    expect((await request('GET', `/schemas/${name}`)).status).toBe(200)
  })

  it('when configs break the enforce state restored, then 422 with the violators unless force=true', async () => {
    const { name, prefix, first, second } = await twice()
    const created = await request('POST', '/configs', { body: { dcname: `${prefix}a`, metadata: { replicas: 99 } } })
    expect(created.status).toBe(201)
    const refused = await request('POST', `/schemas/${name}/rollback`, { body: { revision: first } })
    expectProblem(refused, 422)
    expect(refused.json.type).toBe('urn:config-service:problem:schema-violators')
    expect(revisionOf(await request('GET', `/schemas/${name}`))).toBe(second)
    const forced = await request('POST', `/schemas/${name}/rollback?force=true`, { body: { revision: first } })
    expect(forced.status, forced.text).toBe(200)
    expect(forced.headers.get('warning')).toContain('1 config(s) break it')
  })

  it('when a rollback is refused for its request, then nothing is written', async () => {
    const { name, first, second } = await twice()
    const stale = { body: { revision: first }, headers: { 'if-match': `"${first}"` } }
    expectProblem(await request('POST', `/schemas/${name}/rollback`, stale), 412)
    expectProblem(await request('POST', `/schemas/${name}/rollback`, { body: { revision: String(first) } }), 400)
    expectProblem(await request('POST', `/schemas/${name}/rollback`, { body: { revision: first - 1 } }), 404)
    expectProblem(await request('POST', `/schemas/${name}/rollback`, { body: { revision: first }, auth: false }), 401)
    const dry = await request('POST', `/schemas/${name}/rollback?dryRun=true`, { body: { revision: first } })
    expect(dry.status, dry.text).toBe(200)
    expect(dry.json.mode).toBe('enforce')
    const now = await request('GET', `/schemas/${name}`)
    expect([revisionOf(now), now.json.mode]).toEqual([second, 'warn'])
    expect((await request('GET', `/schemas/${name}/history`)).json).toHaveLength(2)
  })
})

describe('Schema watch', () => {
  it('when schemas are written, then a watch streams each write as ADDED, MODIFIED and DELETED, config writes not', async () => {
    const stream = (await watchSchemas()) as SseStream
    expect(stream.response.headers.get('content-type')).toContain('text/event-stream')
    const name = fresh()
    const prefix = `${name}-`
    const added = await put(name, loose(prefix))
    await request('POST', '/configs', { body: { dcname: `${prefix}a`, metadata: {} } })
    const modified = await put(name, { ...loose(prefix), mode: 'enforce' })
    await request('DELETE', `/schemas/${name}`)
    const events = await eventsOf(stream, name, 3)
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED'])
    expect(events.map((e) => e.revision).slice(0, 2)).toEqual([added, modified])
    expect(events[0]?.schema).toEqual({ name, revision: added, ...loose(prefix) })
  })

  it('when a watch gives since, then it first replays the schema writes after it, rollbacks with rollbackOf', async () => {
    const list = await request('GET', '/schemas')
    const since = Number(list.headers.get('x-revision'))
    expect(since).toBeGreaterThan(0)
    const { name, first, second } = await twice()
    await request('POST', `/schemas/${name}/rollback`, { body: { revision: first } })
    const stream = (await watchSchemas(`&since=${since}`)) as SseStream
    const events = await eventsOf(stream, name, 3)
    expect(events.map((e) => [e.type, e.rollbackOf])).toEqual([
      ['ADDED', undefined],
      ['MODIFIED', undefined],
      ['MODIFIED', first],
    ])
    expect(events.map((e) => e.revision).slice(0, 2)).toEqual([first, second])
  })

  it('when an EventSource reconnects with Last-Event-ID, then the watch resumes after it', async () => {
    const { name, first } = await twice()
    const stream = (await watchSchemas('&since=1', { 'last-event-id': String(first) })) as SseStream
    const [event] = await eventsOf(stream, name, 1)
    expect(event?.type).toBe('MODIFIED')
  })

  it('when since is older than the kept schema history, then the watch answers 410 and a read there too', async () => {
    const short = await httpTarget({ HISTORY_KEEP: '1', HISTORY_RETENTION_DAYS: '0' })
    try {
      const send = client(short)
      const first = revisionOf(await send('PUT', '/schemas/kept', { body: enforce('kept-') }))
      expect((await send('PUT', '/schemas/kept', { body: loose('kept-') })).status).toBe(200)
      const response = await fetch(`${short.base}/schemas?watch=true&since=${first - 1}`)
      expect(response.status).toBe(410)
      expect((await response.json()).type).toBe('urn:config-service:problem:gone')
      expectProblem(await send('GET', `/schemas/kept?revision=${first}`), 410)
    } finally {
      await short.close()
    }
  })

  it('when a schema watch asks for something it does not take, then 400', async () => {
    expectProblem(await toReply(await watchSchemas('&prefix=a')), 400)
    expectProblem(await toReply(await watchSchemas('&since=x')), 400)
  })
})

async function toReply(opened: SseStream | Response) {
  if (opened instanceof SseStream) throw new Error('expected a refusal, got a stream')
  const text = await opened.text()
  return { status: opened.status, headers: opened.headers, text, json: JSON.parse(text) }
}
