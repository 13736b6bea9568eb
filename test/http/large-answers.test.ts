/**
 * Large JSON answers (lists, searches, a config) over real HTTP, on SQLite and PostgreSQL, on
 * the runtime the run names. On Bun a list or search body of 15 KiB or more completed after a
 * later turn of the event loop, as every consistent read on PostgreSQL is (it waits for the
 * revision query), is handed to the server as one chunk of a stream (src/http/answer-body.ts),
 * so HTTP/1.1 clients get it chunked without Content-Length: these tests hold that the bytes and
 * every other header stay what they were, that HEAD and HTTP/1.0 clients are answered
 * correctly, and that smaller bodies, SQLite's answers (completed at once) and a config keep
 * their Content-Length, as Deno's answers do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, type Target } from '../support/http.ts'
import { type SharedPostgres, sharedPostgres } from '../support/postgres.ts'
import { type RawReply, rawRequest } from '../support/raw-http.ts'
import { serve } from './watch-suite.ts'

/** Bun, and the bundle (Bun running what the image runs), stream large late bodies; Deno does not. */
const onBun = process.env.TEST_RUNTIME !== 'deno'
const FROM_BYTES = 15 * 1024
/** Headers that differ from one answer to the next, or with the framing, whatever the body. */
const PER_ANSWER = new Set(['date', 'x-request-id', 'content-length', 'transfer-encoding', 'connection'])

let postgres: SharedPostgres | undefined

const stores: [string, () => Promise<string | undefined>][] = [
  ['sqlite', async () => undefined],
  [
    'postgres',
    async () => {
      postgres ??= await sharedPostgres()
      return postgres.createDatabase('large_answers')
    },
  ],
]

for (const [backend, newDatabase] of stores) {
  describe(`large answers (${backend})`, () => {
    const streamsLargeBodies = onBun && backend === 'postgres'
    let target: Target
    const get = (path: string, version: '1.0' | '1.1' = '1.1', headers: Record<string, string> = {}) =>
      rawRequest(target.base, { method: 'GET', path, host: 'localhost', version, headers })
    const head = (path: string) => rawRequest(target.base, { method: 'HEAD', path, host: 'localhost' })
    const bytesOf = (reply: RawReply) => Buffer.byteLength(reply.text)
    const names = (reply: RawReply) => (reply.json as { dcname: string }[]).map((config) => config.dcname)
    const lasting = (reply: RawReply) =>
      Object.fromEntries(Object.entries(reply.headers).filter(([name]) => !PER_ANSWER.has(name)))

    /** The framing expected of a body of this many bytes sent to an HTTP/1.1 client. */
    const expectFraming = (reply: RawReply) => {
      if (streamsLargeBodies && bytesOf(reply) >= FROM_BYTES) {
        expect(reply.headers['transfer-encoding']).toBe('chunked')
        expect(reply.headers['content-length']).toBeUndefined()
      } else {
        expect(reply.headers['content-length']).toBe(String(bytesOf(reply)))
        expect(reply.headers['transfer-encoding']).toBeUndefined()
      }
    }

    beforeAll(async () => {
      target = await serve({ databaseUrl: await newDatabase() })
      const request = client(target)
      // One write at a time: 84 at once may wait longer than the write queue allows on a busy
      // machine (503), and how many writes queue is not what these tests are about.
      const create = async (dcname: string, metadata: Record<string, unknown>) =>
        expect((await request('POST', '/configs', { body: { dcname, metadata } })).status).toBe(201)
      // 80 configs of about 300 bytes: a list of them is about 24 kB, as a page of 100 in the benchmark.
      for (let i = 0; i < 80; i++) {
        await create(`big-${String(i).padStart(3, '0')}`, { kind: 'big', team: `team-${i % 7}`, note: 'x'.repeat(220) })
      }
      for (let i = 0; i < 3; i++) await create(`small-${i}`, { kind: 'small' })
      await create('huge-1', { text: 'y'.repeat(20_000) })
      // Not a measure: this hook may start the run's PostgreSQL cluster (the first suite of a run
      // to ask does) and then makes 84 durable writes one at a time; with two make test runs on
      // the machine's two cores that took over 60 s.
    }, 120_000)
    afterAll(async () => {
      await target?.close()
    })

    it('when a list reaches 15 KiB, then it comes whole, framed for its size, with the headers of its HEAD', async () => {
      const reply = await get('/configs?prefix=big-&limit=79')
      expect(reply.status).toBe(200)
      expect(bytesOf(reply)).toBeGreaterThanOrEqual(FROM_BYTES)
      expect(names(reply)).toHaveLength(79)
      expect(names(reply)[78]).toBe('big-078')
      expectFraming(reply)
      const headReply = await head('/configs?prefix=big-&limit=79')
      expect(headReply.status).toBe(200)
      expect(headReply.text).toBe('')
      expect(headReply.headers['content-length']).toBe(String(bytesOf(reply)))
      expect(lasting(headReply)).toEqual(lasting(reply))
      expect(reply.headers['content-type']).toBe('application/json')
      expect(reply.headers['x-revision']).toMatch(/^\d+$/)
      expect(reply.headers.link).toBe('</configs?prefix=big-&limit=79&cursor=YmlnLTA3OA>; rel="next"')
      expect(reply.headers['x-content-type-options']).toBe('nosniff')
    })

    it('when the same large list is read again, then the same bytes come back', async () => {
      const first = await get('/configs?prefix=big-')
      const again = await get('/configs?prefix=big-')
      expect(bytesOf(first)).toBeGreaterThanOrEqual(FROM_BYTES)
      expect(again.text).toBe(first.text)
      const fetched = await fetch(`${target.base}/configs?prefix=big-`)
      expect(await fetched.text()).toBe(first.text)
    })

    it('when a list is under 15 KiB, then it keeps its Content-Length', async () => {
      const reply = await get('/configs?prefix=small-')
      expect(reply.status).toBe(200)
      expect(names(reply)).toEqual(['small-0', 'small-1', 'small-2'])
      expect(reply.headers['content-length']).toBe(String(bytesOf(reply)))
      expect(reply.headers['transfer-encoding']).toBeUndefined()
    })

    it('when a search reaches 15 KiB, then it answers the bytes the list of the same configs does', async () => {
      const search = await get('/search?metadata.kind=big')
      expect(search.status).toBe(200)
      expectFraming(search)
      expect(bytesOf(search)).toBeGreaterThanOrEqual(FROM_BYTES)
      expect(search.text).toBe((await get('/configs?prefix=big-')).text)
    })

    it('when a config reaches 15 KiB, then GET answers it whole with its Content-Length and ETag, and 304 to its ETag', async () => {
      const reply = await get('/configs/huge-1')
      expect(reply.status).toBe(200)
      expect(reply.headers['content-length']).toBe(String(bytesOf(reply)))
      expect(reply.json.metadata.text).toHaveLength(20_000)
      expect(reply.headers.etag).toMatch(/^"\d+"$/)
      const headReply = await head('/configs/huge-1')
      expect(headReply.headers['content-length']).toBe(String(bytesOf(reply)))
      expect(lasting(headReply)).toEqual(lasting(reply))
      const unchanged = await get('/configs/huge-1', '1.1', { 'if-none-match': reply.headers.etag as string })
      expect(unchanged.status).toBe(304)
      expect(unchanged.text).toBe('')
    })

    it('when an HTTP/1.0 client reads a large list, then it gets the whole body, never chunked', async () => {
      const reply = await get('/configs?prefix=big-', '1.0')
      expect(reply.status).toBe(200)
      expect(reply.headers['transfer-encoding']).toBeUndefined()
      expect(reply.text).toBe((await get('/configs?prefix=big-')).text)
      // Without chunked framing the body ends where its length says, or where the connection closes.
      const length = reply.headers['content-length']
      if (length !== undefined) expect(length).toBe(String(bytesOf(reply)))
    })
  })
}
