/**
 * Config schemas across replicas: two real service processes (one on Bun, one on Deno) on one
 * real PostgreSQL database. A schema written through one governs writes through the other at
 * once (both read it under the store's write lock), and a read through the other right after
 * a schema write is answered (the schema's revision has no event; the read model must not
 * wait for one). A schema watch on one replica streams the schema writes made through the other,
 * and both read the same schema history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type PostgresServer, startPostgres } from '../support/postgres.ts'
import { type RunningServer, type Runtime, startServer } from '../support/server.ts'
import { SseStream } from '../support/sse.ts'

let database: PostgresServer
const replicas: RunningServer[] = []

beforeAll(async () => {
  database = await startPostgres()
  const databaseUrl = await database.createDatabase('schemas')
  const start = (runtime: Runtime) => startServer({ runtime, databaseUrl, env: { SEED: 'false' } })
  replicas.push(...(await Promise.all([start('bun'), start('deno')])))
}, 60_000)

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => {})))
  await database?.dispose()
}, 30_000)

const send = (replica: RunningServer, method: string, path: string, body?: unknown) =>
  fetch(`${replica.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })

const schema = (mode: string) => ({
  prefix: 'payments-',
  mode,
  schema: { type: 'object', properties: { replicas: { type: 'integer', maximum: 50 } }, required: ['replicas'] },
})

describe('schemas on two replicas', () => {
  it('when a schema is written through one replica, then the next write through the other is checked against it', async () => {
    const [first, second] = replicas as [RunningServer, RunningServer]
    expect((await send(first, 'PUT', '/schemas/payments', schema('enforce'))).status).toBe(201)
    const refused = await send(second, 'POST', '/configs', { dcname: 'payments-1', metadata: {} })
    expect(refused.status).toBe(422)
    const changed = await send(first, 'PUT', '/schemas/payments', schema('warn'))
    expect(changed.status).toBe(200)
    const warned = await send(second, 'POST', '/configs', { dcname: 'payments-1', metadata: {} })
    expect(warned.status).toBe(201)
    expect(warned.headers.get('warning')).toStartWith('299 - ')
  })

  it('when the newest write is a schema write on one replica, then a read on the other is answered at once', async () => {
    const [first, second] = replicas as [RunningServer, RunningServer]
    expect((await send(second, 'PUT', '/configs/other-1', { metadata: { a: 1 } })).status).toBe(201)
    expect((await send(first, 'PUT', '/schemas/other', { ...schema('warn'), prefix: 'other-' })).status).toBe(201)
    const read = await send(second, 'GET', '/configs/other-1')
    expect(read.status).toBe(200)
  })

  it('when schemas are written through one replica, then a schema watch on the other streams them, a config write in between not', async () => {
    const [first, second] = replicas as [RunningServer, RunningServer]
    const abort = new AbortController()
    const stream = new SseStream(await fetch(`${second.url}/schemas?watch=true`, { signal: abort.signal }), abort)
    try {
      const put = await send(first, 'PUT', '/schemas/watched', { ...schema('warn'), prefix: 'watched-' })
      expect(put.status).toBe(201)
      expect((await send(first, 'PUT', '/configs/watched-1', { metadata: {} })).status).toBe(201)
      const deleted = await send(first, 'DELETE', '/schemas/watched')
      expect(deleted.status).toBe(204)
      const events = [
        JSON.parse((await stream.next(10_000))?.data ?? '{}'),
        JSON.parse((await stream.next(10_000))?.data ?? '{}'),
      ]
      expect(events.map((e) => [e.type, e.schema?.name])).toEqual([
        ['ADDED', 'watched'],
        ['DELETED', 'watched'],
      ])
      expect(events[0].revision).toBe(Number(put.headers.get('etag')?.replaceAll('"', '')))
      const history = await (await send(second, 'GET', '/schemas/watched/history')).json()
      expect(history.map((e: { revision: number }) => e.revision)).toEqual(events.map((e) => e.revision).reverse())
    } finally {
      stream.close()
    }
  })
})
