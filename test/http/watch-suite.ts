/**
 * The watch API over real HTTP, written once and run on each store (watch.test.ts on SQLite,
 * watch-postgres.test.ts on PostgreSQL): a real server process, fetch streaming, and the SSE
 * parser of test/support/sse.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { parseExposition, sampleValue } from '../support/exposition-parser.ts'
import { client, expectProblem, type Reply, revisionOf, type Target } from '../support/http.ts'
import { type RunningServer, type Runtime, startServer } from '../support/server.ts'
import { openWatch, type SseStream, type WatchEvent, watch } from '../support/sse.ts'
import { StalledWatch } from '../support/stalled-watch.ts'
import { waitFor } from '../support/wait.ts'

export interface ServeOptions {
  env?: Record<string, string>
  runtime?: Runtime
  /** A new, empty database; a fresh SQLite file when undefined. */
  databaseUrl?: string
}

export async function serve(options: ServeOptions = {}): Promise<Target> {
  const token = `watch-token-${crypto.randomUUID()}`
  const server: RunningServer = await startServer({
    runtime: options.runtime,
    databaseUrl: options.databaseUrl,
    env: { API_TOKEN: token, SEED: 'false', ...options.env },
  })
  let stopping = false
  void server.process.exited.then((code) => {
    if (stopping) return
    const output = [...server.stderr, ...server.rawStdout.slice(-20)].join('\n')
    console.error(`the service exited early (${code}):\n${output}`)
  })
  const close = async () => {
    stopping = true
    await server.stop()
  }
  return { base: server.url, token, server, close }
}

const streams: SseStream[] = []
export async function track(stream: Promise<SseStream>): Promise<SseStream> {
  const opened = await stream
  streams.push(opened)
  return opened
}
export function closeStreams() {
  for (const stream of streams.splice(0)) stream.close()
}

/** `newDatabase` gives each server its own empty database (undefined: a fresh SQLite file). */
export function describeWatchApi(backend: string, newDatabase: () => Promise<string | undefined>) {
  describe(`watch (${backend})`, () => {
    let target: Target
    let request: ReturnType<typeof client>
    let counter = 0
    const unique = (label: string) => `${label}-${++counter}`

    beforeAll(async () => {
      target = await serve({ env: { WATCH_HEARTBEAT_MS: '100' }, databaseUrl: await newDatabase() })
      request = client(target)
    }, 60_000)
    afterAll(async () => {
      closeStreams()
      await target.close()
    })

    const write = async (method: string, path: string, body?: unknown): Promise<Reply> => {
      const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
      const headers: Record<string, string> = body === undefined ? {} : { 'content-type': type }
      const reply = await request(method, path, { raw: body === undefined ? undefined : JSON.stringify(body), headers })
      if (reply.status >= 300) throw new Error(`${method} ${path} answered ${reply.status}: ${reply.text}`)
      return reply
    }
    const create = (dcname: string, metadata: Record<string, unknown> = {}) =>
      write('POST', '/configs', { dcname, metadata })
    const currentRevision = async () => Number((await request('GET', '/configs?limit=1')).headers.get('x-revision'))

    it('when a watch opens, then it answers 200 text/event-stream that is not cached', async () => {
      const stream = await track(watch(target.base))
      expect(stream.response.headers.get('content-type')).toStartWith('text/event-stream')
      expect(stream.response.headers.get('cache-control')).toBe('no-cache')
      closeStreams()
    })

    it('when HEAD asks for a watch, then it answers the headers of the stream at once, with no body', async () => {
      const response = await fetch(`${target.base}/configs?watch=true`, {
        method: 'HEAD',
        signal: AbortSignal.timeout(5000),
      })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toStartWith('text/event-stream')
      expect(await response.text()).toBe('')
    })

    it('when a config is created, replaced, patched and deleted, then the watcher gets each change in order with its body', async () => {
      const stream = await track(watch(target.base))
      const dcname = unique('life')
      const created = await create(dcname, { team: 'a' })
      const replaced = await write('PUT', `/configs/${dcname}`, { metadata: { team: 'b' } })
      const patched = await write('PATCH', `/configs/${dcname}`, { metadata: { owner: 'sre' } })
      await write('DELETE', `/configs/${dcname}`)
      const deletedRevision = await currentRevision()

      const messages = []
      for (let i = 0; i < 4; i++) messages.push(await stream.next())
      expect(messages.map((m) => [m?.event, Number(m?.id)])).toEqual([
        ['ADDED', revisionOf(created)],
        ['MODIFIED', revisionOf(replaced)],
        ['MODIFIED', revisionOf(patched)],
        ['DELETED', deletedRevision],
      ])
      expect(messages.map((m) => JSON.parse(m?.data ?? 'null'))).toEqual([
        { type: 'ADDED', revision: revisionOf(created), config: { dcname, metadata: { team: 'a' } } },
        { type: 'MODIFIED', revision: revisionOf(replaced), config: { dcname, metadata: { team: 'b' } } },
        { type: 'MODIFIED', revision: revisionOf(patched), config: { dcname, metadata: { team: 'b', owner: 'sre' } } },
        { type: 'DELETED', revision: deletedRevision, config: { dcname, metadata: { team: 'b', owner: 'sre' } } },
      ])
      closeStreams()
    })

    it('when no since is given, then only changes after the watch opened arrive', async () => {
      await create(unique('before'))
      const stream = await track(watch(target.base))
      const after = await create(unique('after'))
      const [event] = await stream.events(1)
      expect(event?.revision).toBe(revisionOf(after))
      closeStreams()
    })

    it('when watching since a list revision while writes continue, then every later write arrives once, in order', async () => {
      const listed = await request('GET', '/configs?limit=1')
      const since = Number(listed.headers.get('x-revision'))
      const names = Array.from({ length: 30 }, () => unique('race'))
      const history = await Promise.all(names.slice(0, 10).map((n) => create(n)))
      // The watch starts while the next writes commit: they land in history, in the live
      // buffer, or both, and must come out exactly once.
      const [stream, racing] = await Promise.all([
        track(watch(target.base, `since=${since}`)),
        Promise.all(names.slice(10, 20).map((n) => create(n))),
      ])
      const live = await Promise.all(names.slice(20).map((n) => create(n)))
      const expected = [...history, ...racing, ...live].map(revisionOf).sort((a, b) => a - b)

      const events = await stream.events(expected.length)
      expect(events.map((e) => e.revision)).toEqual(expected)
      // Nothing more came before a write made after them all.
      const sentinel = await create(unique('sentinel'))
      const [next] = await stream.events(1)
      expect(next?.revision).toBe(revisionOf(sentinel))
      expect(stream.messages.length).toBe(expected.length + 1)
      closeStreams()
    })

    it('when Last-Event-ID is sent, then it replaces since and the watch resumes after it', async () => {
      const first = await create(unique('resume'))
      const second = await create(unique('resume'))
      const stream = await track(watch(target.base, 'since=0', { 'last-event-id': String(revisionOf(first)) }))
      const [event] = await stream.events(1)
      expect(event?.revision).toBe(revisionOf(second))
      closeStreams()
    })

    it('when watch is false or 0, then the answer is the plain list, with its filters and paging', async () => {
      const dcname = unique('plain')
      await create(dcname, { team: 'plain' })
      await create(unique('plain'))
      for (const query of [
        `watch=false&dcname=${dcname}`,
        `watch=0&dcname=${dcname}`,
        `dcname=${dcname}&watch=false`,
      ]) {
        const reply = await request('GET', `/configs?${query}`)
        expect([query, reply.status]).toEqual([query, 200])
        expect(reply.headers.get('content-type')).toStartWith('application/json')
        expect(reply.json).toEqual([{ dcname, metadata: { team: 'plain' } }])
      }
      const paged = await request('GET', '/configs?watch=false&limit=1')
      expect(paged.status).toBe(200)
      expect(paged.json).toHaveLength(1)
      expect(paged.headers.get('link')).toContain('watch=false')
    })

    it('when watch, since or Last-Event-ID are malformed, then the answer is 400 problem+json', async () => {
      const cases: [string, Record<string, string>][] = [
        ['watch=maybe', {}],
        ['watch=true&since=-1', {}],
        ['watch=true&since=abc', {}],
        ['watch=true&since=', {}],
        ['watch=true&since=1&since=2', {}],
        ['since=3', {}],
        ['watch=false&since=3', {}],
        ['watch=true&limit=5', {}],
        ['watch=true&metadata=x', {}],
        ['watch=true', { 'last-event-id': 'latest' }],
      ]
      for (const [query, headers] of cases) {
        const reply = await request('GET', `/configs?${query}`, { headers })
        expectProblem(reply, 400)
      }
    })

    describe('filters', () => {
      it('when filters are given, then configs entering the view arrive as ADDED and configs leaving it as DELETED', async () => {
        const team = unique('team')
        const stream = await track(watch(target.base, `metadata.team=${team}&metadata.monitoring.enabled=true`))
        const inside = unique('in')
        const outside = unique('out')
        const a = await create(inside, { team, monitoring: { enabled: true } })
        await create(outside, { team, monitoring: { enabled: false } })
        const enters = await write('PATCH', `/configs/${outside}`, { metadata: { monitoring: { enabled: 'true' } } })
        const leaves = await write('PATCH', `/configs/${inside}`, { metadata: { team: 'other' } })
        await write('PATCH', `/configs/${inside}`, { metadata: { note: 'still outside' } })
        await write('DELETE', `/configs/${outside}`)
        const deleted = await currentRevision()

        const events = await stream.events(4)
        expect(events.map((e) => [e.type, e.config.dcname, e.revision])).toEqual([
          ['ADDED', inside, revisionOf(a)],
          ['ADDED', outside, revisionOf(enters)],
          ['DELETED', inside, revisionOf(leaves)],
          ['DELETED', outside, deleted],
        ])
        // Nothing more came (the write that stayed outside sent nothing) before a later one in view.
        const sentinel = await create(unique('sentinel'), { team, monitoring: { enabled: true } })
        const [next] = await stream.events(1)
        expect([next?.type, next?.revision]).toEqual(['ADDED', revisionOf(sentinel)])
        expect(stream.messages.length).toBe(5)
        closeStreams()
      })

      it('when a filtered watch replays since a revision, then it sends exactly what a watcher connected since then was sent', async () => {
        const team = unique('team')
        const leaver = unique('leaver')
        const joiner = unique('joiner')
        const stranger = unique('stranger')
        const stayer = unique('stayer')
        const newcomer = unique('newcomer')
        const outsider = unique('outsider')
        await create(leaver, { team })
        await create(joiner, { team: 'other' })
        await create(stranger, { team: 'other' })
        await create(stayer, { team })
        const listed = await request('GET', `/configs?metadata.team=${team}`)
        expect(listed.json.map((c: { dcname: string }) => c.dcname).sort()).toEqual([leaver, stayer].sort())
        const since = Number(listed.headers.get('x-revision'))
        const live = await track(watch(target.base, `metadata.team=${team}`))

        const joins = await write('PATCH', `/configs/${joiner}`, { metadata: { team } })
        const leaves = await write('PUT', `/configs/${leaver}`, { metadata: { team: 'elsewhere' } })
        await write('PATCH', `/configs/${stranger}`, { metadata: { note: 'never in the view' } })
        await write('DELETE', `/configs/${stranger}`)
        const stays = await write('PATCH', `/configs/${stayer}`, { metadata: { note: 'still in' } })
        const arrives = await create(newcomer, { team })
        await create(outsider, { team: 'other' })
        await write('DELETE', `/configs/${leaver}`)
        const expected = [
          ['ADDED', joiner, revisionOf(joins)],
          ['DELETED', leaver, revisionOf(leaves)],
          ['MODIFIED', stayer, revisionOf(stays)],
          ['ADDED', newcomer, revisionOf(arrives)],
        ]
        const summary = (events: WatchEvent[]) => events.map((e) => [e.type, e.config.dcname, e.revision])
        expect(summary(await live.events(expected.length))).toEqual(expected)

        const replay = await track(watch(target.base, `metadata.team=${team}&since=${since}`))
        expect(summary(await replay.events(expected.length))).toEqual(expected)
        // Nothing more came to either before a later write in the view.
        const sentinelName = unique('sentinel')
        const sentinel = await create(sentinelName, { team })
        const after = [['ADDED', sentinelName, revisionOf(sentinel)]]
        expect([summary(await live.events(1)), summary(await replay.events(1))]).toEqual([after, after])
        expect([live.messages.length, replay.messages.length]).toEqual([expected.length + 1, expected.length + 1])
        closeStreams()
      })

      it('when filtering on dcname, then only that config is watched', async () => {
        const mine = unique('mine')
        const stream = await track(watch(target.base, `dcname=${mine}`))
        await create(unique('other'))
        const created = await create(mine)
        const [event] = await stream.events(1)
        expect([event?.config.dcname, event?.revision]).toEqual([mine, revisionOf(created)])
        closeStreams()
      })
    })

    it('when watchers connect and go away, then /metrics watchers_connected follows', async () => {
      const connected = async () => {
        const reply = await request('GET', '/metrics')
        return sampleValue(parseExposition(reply.text), 'watchers_connected')
      }
      let last: number | undefined
      const waitForConnected = (expected: number) =>
        waitFor(
          async () => {
            last = await connected()
            return last === expected
          },
          5000,
          () => `watchers_connected to be ${expected}; it stayed at ${last}`,
        )
      closeStreams()
      await waitForConnected(0)
      const first = await track(watch(target.base))
      await track(watch(target.base, 'dcname=x'))
      await waitForConnected(2)
      first.close()
      await waitForConnected(1)
      closeStreams()
      await waitForConnected(0)
    })

    it('when a stream is idle, then heart-beat comments arrive every WATCH_HEARTBEAT_MS', async () => {
      const stream = await track(watch(target.base))
      const before = stream.comments.length
      await stream.until(() => stream.comments.length >= before + 3, 2000, 'three heart-beats')
      expect(stream.comments.slice(before).every((c) => c === 'heartbeat')).toBe(true)
      expect(stream.messages).toEqual([])
      closeStreams()
    })
  })

  /** A describe whose tests share a server of their own, started with `env`. */
  function describeServed(title: string, env: Record<string, string>, tests: (served: Served) => void) {
    describe(`${title} (${backend})`, () => {
      const served = {} as Served
      beforeAll(async () => {
        served.target = await serve({ env, databaseUrl: await newDatabase() })
        const request = client(served.target)
        served.put = async (dcname, metadata) =>
          (await request('PUT', `/configs/${dcname}`, { body: { metadata } })).status
      }, 60_000)
      afterAll(async () => {
        closeStreams()
        await served.target?.close()
      })
      tests(served)
    })
  }

  describeServed('watch with a small history', { WATCH_HISTORY_SIZE: '5' }, (served) => {
    it('when since is older than the kept history, then the answer is 410 problem+json and the client must list again', async () => {
      for (let i = 0; i < 8; i++) await served.put(`h-${i}`, {})
      const reply = await openWatch(served.target.base, 'since=1')
      if (!(reply instanceof Response)) throw new Error('expected a refusal, got a stream')
      const text = await reply.text()
      expectProblem({ status: reply.status, headers: reply.headers, text, json: JSON.parse(text) }, 410)
      expect(JSON.parse(text).type).toContain('gone')
    })
  })

  // A store handle that falls further behind than WATCH_HISTORY_SIZE ends all of its watchers
  // (410 gone): with a short history, a PostgreSQL feed still reading the big events below would
  // end the stalled watcher that way, and not for its own budget. A history longer than the
  // test's writes leaves the budget as the only way this watcher can be dropped.
  const smallBuffer = {
    WATCH_HISTORY_SIZE: '1000',
    WATCH_BUFFER_EVENTS: '10',
    WATCH_BUFFER_BYTES: String(1 << 20),
    MAX_BODY_BYTES: String(2 << 20),
  }
  describeServed('watch with a small buffer and a long history', smallBuffer, (served) => {
    it('when a watcher stops reading, then writers keep getting 2xx and the watcher is dropped with a final ERROR event', async () => {
      const { target, put } = served
      // The client stops reading at its socket, so only the kernel's buffers (bounded, and small
      // for a receiver that never reads) take events before the watcher's own 1 MiB budget does.
      const stream = await StalledWatch.open(target.base, '')
      const blob = 'x'.repeat(256 * 1024)
      const dropped = () =>
        target.server?.lines.some((line) => (line as { msg?: string }).msg === 'watcher fell behind')
      // Each write is answered while the watcher reads nothing: a write that waited for the
      // watcher would never be answered (the test's own timeout would end it). How fast a write
      // is on a busy machine is not what this asserts.
      // On PostgreSQL events reach the watcher through the change feed, after their writes are
      // answered: the writes may all be answered before the feed has delivered enough of them to
      // overflow the budget, so the drop is waited for once they are. 200 writes of 256 KiB are
      // far more than the budget and the kernel's buffers hold together.
      let writes = 0
      while (!dropped() && writes < 200) {
        expect(await put(`big-${writes++}`, { blob })).toBeLessThan(300)
      }
      // Should it not come, the service's warnings say what ended the watcher instead.
      await waitFor(dropped, 30_000, () => {
        const warnings = target.server?.lines.filter((line) => (line as { level?: number }).level === 40)
        return `the log line of the dropped watcher; the warnings were ${JSON.stringify(warnings?.slice(-5))}`
      })
      const messages = await stream.readToEnd()

      const last = messages.at(-1)
      expect(last?.event).toBe('ERROR')
      const problem = JSON.parse(last?.data ?? '{}')
      expect(problem.type).toContain('watch-fell-behind')
      const revisions = messages.slice(0, -1).map((m) => Number(m.id))
      expect(problem.detail).toContain(`since=${revisions.at(-1)}`)
      expect(revisions.length).toBeLessThan(writes)
      expect(revisions).toEqual([...revisions].sort((a, b) => a - b))
    }, 60_000)
  })
}

interface Served {
  target: Target
  /** PUTs a config's metadata; the answer's status. */
  put(dcname: string, metadata: Record<string, unknown>): Promise<number>
}
