/**
 * `GET /rollouts?watch=true` against a real server (Bun, or Deno with TEST_RUNTIME=deno), written
 * once and run on each store (rollout-watch.test.ts on SQLite, rollout-watch-postgres.test.ts on
 * PostgreSQL): every step of a rollout arrives as an event named by its timeline entry, in order,
 * from a driver and bakes with short durations set here; steering (pause, resume, abort) and a
 * failing gate's revert arrive too; a watch resumes after an event id with `since` or
 * `Last-Event-ID`, and one from before the kept log is a 410. The test waits for events, never
 * for time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256 } from '../access/support.ts'
import { type RunningServer, startServer, tempDir } from '../support/server.ts'
import { type SseMessage, SseStream } from '../support/sse.ts'
import { waitFor } from '../support/wait.ts'

type Json = Record<string, unknown>

/** The server's rollout event log keeps this many: the 410 test logs more. */
const KEPT = 10

/** `newDatabase` gives each server its own empty database (undefined: a fresh SQLite file). */
export function describeRolloutWatch(backend: string, newDatabase: () => Promise<string | undefined>) {
  describe(`the rollout watch (${backend})`, () => {
    let server: RunningServer

    beforeAll(async () => {
      server = await startServer({
        databaseUrl: await newDatabase(),
        env: { SEED: 'false', ROLLOUT_POLL_MS: '20', ROLLOUT_EVENTS_KEPT: String(KEPT) },
      })
      for (const dcname of ['shop-a', 'shop-b']) {
        const response = await send('POST', '/configs', { dcname, metadata: { replicas: 1 } })
        expect(response.status).toBe(201)
      }
    }, 60_000)

    afterAll(async () => {
      await server?.stop()
    })

    async function send(method: string, path: string, body?: unknown) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: response.status, headers: response.headers, body: (await response.json()) as Json }
    }

    async function watchRollouts(query = 'watch=true', headers: Record<string, string> = {}): Promise<SseStream> {
      const abort = new AbortController()
      const response = await fetch(`${server.url}/rollouts?${query}`, { headers, signal: abort.signal })
      expect([response.status, response.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8'])
      return new SseStream(response, abort)
    }

    /** The events of rollout `id` until one named `last`, each parsed. */
    async function eventsOf(stream: SseStream, id: string, last: string): Promise<Json[]> {
      const events: Json[] = []
      for (;;) {
        const message = (await stream.next(30_000)) as SseMessage
        if (!message) throw new Error(`the stream ended after ${events.map((e) => e.type).join(', ')}`)
        const event = JSON.parse(message.data) as Json
        expect(event.type).toBe(message.event)
        if (event.id !== id) continue
        // The event's id is its place in the log, in data as `revision` too.
        expect(message.id).toBe(String(event.revision))
        events.push(event)
        if (event.type === last) return events
      }
    }

    it('when a rollout runs to completion, then the watch streams each of its steps in order', async () => {
      const stream = await watchRollouts()
      try {
        const created = await send('POST', '/rollouts', {
          change: { merge: { replicas: 2 } },
          target: { prefix: 'shop-' },
          waves: [{ dcnames: ['shop-a'] }, { percent: 100 }],
          bake: '50ms',
        })
        expect(created.status).toBe(201)
        const events = await eventsOf(stream, created.body.id as string, 'completed')
        expect(events.map((e) => [e.type, e.entryWave])).toEqual([
          ['created', undefined],
          ['wave-started', 0],
          ['wave-applied', 0],
          ['wave-baked', 0],
          ['wave-started', 1],
          ['wave-applied', 1],
          ['wave-baked', 1],
          ['completed', undefined],
        ])
        expect(events.at(-1)?.status).toBe('completed')
      } finally {
        stream.close()
      }
    }, 60_000)

    it('when a rollout is paused, resumed and aborted, then the watch streams each step', async () => {
      const stream = await watchRollouts()
      try {
        const created = await send('POST', '/rollouts', {
          change: { merge: { replicas: 3 } },
          target: { prefix: 'shop-' },
          waves: [{ percent: 100 }],
          bake: '1h',
          approval: { required: 1 },
        })
        const id = created.body.id as string
        expect((await eventsOf(stream, id, 'created')).map((e) => e.status)).toEqual(['pending-approval'])
        expect((await send('POST', `/rollouts/${id}/pause`)).status).toBe(200)
        expect((await eventsOf(stream, id, 'paused')).map((e) => [e.type, e.status])).toEqual([['paused', 'paused']])
        expect((await send('POST', `/rollouts/${id}/resume`)).status).toBe(200)
        expect((await eventsOf(stream, id, 'resumed')).map((e) => e.type)).toEqual(['resumed'])
        expect((await send('POST', `/rollouts/${id}/abort`)).status).toBe(200)
        // Nothing was applied: the abort ends it at once, with nothing to revert.
        const ended = await eventsOf(stream, id, 'abort')
        expect(ended.map((e) => [e.type, e.status])).toEqual([['abort', 'aborted']])
      } finally {
        stream.close()
      }
    }, 60_000)

    it('when a baking rollout is aborted, then the watch streams the abort, then the end of its revert', async () => {
      const before = (await send('GET', '/configs/shop-a')).body.metadata
      const stream = await watchRollouts()
      try {
        const created = await send('POST', '/rollouts', {
          change: { merge: { replicas: 5 } },
          target: { prefix: 'shop-' },
          waves: [{ percent: 100 }],
          bake: '1h',
        })
        const id = created.body.id as string
        await eventsOf(stream, id, 'wave-applied')
        expect((await send('POST', `/rollouts/${id}/abort`)).status).toBe(200)
        const ended = await eventsOf(stream, id, 'aborted')
        expect(ended.map((e) => e.type)).toEqual(['abort', 'aborted'])
        expect(ended.at(-1)?.status).toBe('aborted')
        expect((await send('GET', '/configs/shop-a')).body.metadata).toEqual(before)
      } finally {
        stream.close()
      }
    }, 60_000)

    it('when a gate fails, then the watch streams the failure, the revert, and the end as reverted', async () => {
      const before = (await send('GET', '/configs/shop-b')).body.metadata
      const stream = await watchRollouts()
      try {
        const created = await send('POST', '/rollouts', {
          change: { merge: { replicas: 7 } },
          target: { dcnames: ['shop-b'] },
          waves: [{ percent: 100 }],
          bake: '1h',
          gates: [{ consumers: { applied: 1, within: '1h' } }],
        })
        const id = created.body.id as string
        await eventsOf(stream, id, 'wave-applied')
        // The config's consumer rejects the revision the rollout wrote: the gate fails at once.
        const written = await send('GET', '/configs/shop-b')
        const revision = Number(written.headers.get('etag')?.replaceAll('"', ''))
        const report = { revision, state: 'rejected', message: 'check failed' }
        expect((await send('PUT', '/configs/shop-b/consumers/pod-1', report)).status).toBeLessThan(300)
        const ended = await eventsOf(stream, id, 'reverted')
        expect(ended.map((e) => [e.type, e.status])).toEqual([
          ['gate-failed', 'reverting'],
          ['reverted', 'reverted'],
        ])
        expect(ended[0]?.detail).toContain('pod-1')
        expect((await send('GET', '/configs/shop-b')).body.metadata).toEqual(before)
      } finally {
        stream.close()
      }
    }, 60_000)

    it('when a watch resumes with since or Last-Event-ID, then it replays the events after it, then goes live', async () => {
      const stream = await watchRollouts()
      let events: Json[]
      let id: string
      try {
        const created = await send('POST', '/rollouts', {
          change: { merge: { replicas: 4 } },
          target: { prefix: 'shop-' },
          waves: [{ dcnames: ['shop-a'] }, { percent: 100 }],
          bake: '10ms',
        })
        id = created.body.id as string
        events = await eventsOf(stream, id, 'completed')
      } finally {
        stream.close()
      }
      const resumeAt = events[2]?.revision as number
      const expected = events.slice(3).map((e) => [e.revision, e.type])
      const sentinels: unknown[][] = []
      for (const [query, headers] of [
        [`watch=true&since=${resumeAt}`, {}],
        // A reconnecting EventSource sends the last id it got; it wins over the URL's since.
        ['watch=true&since=0', { 'last-event-id': String(resumeAt) }],
      ] as const) {
        const resumed = await watchRollouts(query, headers)
        try {
          const replayed = await eventsOf(resumed, id, 'completed')
          expect(replayed.map((e) => [e.revision, e.type])).toEqual(expected)
          const nextEvent = async () => {
            const data = JSON.parse((await resumed.next(30_000))?.data ?? '{}') as Json
            return [data.id, data.type]
          }
          // The earlier rounds' sentinels were logged after it: they are replayed too.
          for (const event of sentinels) expect(await nextEvent()).toEqual(event)
          // Then live: the next event is this round's sentinel, nothing in between.
          const sentinel = await send('POST', '/rollouts', {
            change: { merge: { replicas: 1 } },
            target: { prefix: 'shop-' },
            waves: [{ percent: 100 }],
            bake: '1h',
            approval: { required: 1 },
          })
          expect(await nextEvent()).toEqual([sentinel.body.id, 'created'])
          expect((await send('POST', `/rollouts/${sentinel.body.id}/abort`)).status).toBe(200)
          expect(await nextEvent()).toEqual([sentinel.body.id, 'abort'])
          sentinels.push([sentinel.body.id, 'created'], [sentinel.body.id, 'abort'])
        } finally {
          resumed.close()
        }
      }
    }, 60_000)

    it('when since is older than the rollout events kept, then the watch is one 410 problem', async () => {
      // Every rollout created logs one event: make sure more than KEPT were logged.
      for (;;) {
        const listed = await send('GET', '/rollouts?limit=1')
        if (Number(listed.headers.get('x-revision')) > KEPT + 1) break
        const created = await send('POST', '/rollouts', {
          change: { merge: { replicas: 1 } },
          target: { prefix: 'shop-' },
          waves: [{ percent: 100 }],
          bake: '1h',
          approval: { required: 1 },
        })
        expect(created.status).toBe(201)
      }
      const response = await fetch(`${server.url}/rollouts?watch=true&since=0`)
      expect([response.status, response.headers.get('content-type')]).toEqual([410, 'application/problem+json'])
      expect(((await response.json()) as Json).detail).toContain('older than the kept history')
    }, 60_000)

    it('when since is not a whole number, then it is one 400 problem', async () => {
      const response = await fetch(`${server.url}/rollouts?watch=true&since=abc`)
      expect([response.status, response.headers.get('content-type')]).toEqual([400, 'application/problem+json'])
    })

    it('when a watch is asked with a list parameter, then it is one 400 problem', async () => {
      const response = await fetch(`${server.url}/rollouts?watch=true&status=baking`)
      expect([response.status, response.headers.get('content-type')]).toEqual([400, 'application/problem+json'])
      expect(((await response.json()) as Json).detail).toBe('a rollout watch takes since, not status')
    })

    it('when a watch is open, then the watchers gauge counts it and stops when it closes', async () => {
      const connected = async () => {
        const text = await (await fetch(`${server.url}/metrics`)).text()
        return Number(/^watchers_connected (\d+)$/m.exec(text)?.[1])
      }
      const before = await connected()
      const stream = await watchRollouts()
      expect(await connected()).toBe(before + 1)
      stream.close()
      await stream.pumping
      await waitFor(async () => (await connected()) === before, 10_000, 'the watcher to be let go')
    })
  })

  describe(`the rollout watch with tokens (${backend})`, () => {
    let server: RunningServer
    const as = (name: string) => ({ authorization: `Bearer ${name}-secret` })

    beforeAll(async () => {
      const file = join(tempDir('rollout-watch-tokens-'), 'tokens.yaml')
      writeFileSync(
        file,
        'tokens:\n' +
          `  - { name: alice, sha256: ${sha256('alice-secret')}, role: writer }\n` +
          `  - { name: rita, sha256: ${sha256('rita-secret')}, role: reader, prefixes: [other-] }\n`,
      )
      server = await startServer({
        databaseUrl: await newDatabase(),
        env: { SEED: 'false', ROLLOUT_POLL_MS: '20', API_TOKENS_FILE: file },
      })
      for (const dcname of ['shop-a', 'other-a']) {
        const response = await fetch(`${server.url}/configs`, {
          method: 'POST',
          headers: { ...as('alice'), 'content-type': 'application/json' },
          body: JSON.stringify({ dcname, metadata: { replicas: 1 } }),
        })
        expect(response.status).toBe(201)
      }
    }, 60_000)

    afterAll(async () => {
      await server?.stop()
    })

    const start = async (prefix: string) => {
      const response = await fetch(`${server.url}/rollouts`, {
        method: 'POST',
        headers: { ...as('alice'), 'content-type': 'application/json' },
        body: JSON.stringify({
          change: { merge: { replicas: 2 } },
          target: { prefix },
          waves: [{ percent: 100 }],
          bake: '1h',
        }),
      })
      expect(response.status).toBe(201)
      return ((await response.json()) as Json).id as string
    }

    it('when a watch has an unknown token, then it is a 401 problem', async () => {
      const response = await fetch(`${server.url}/rollouts?watch=true`, { headers: as('mallory') })
      expect([response.status, response.headers.get('content-type')]).toEqual([401, 'application/problem+json'])
    })

    it('when a reader limited to a prefix watches, then it sees only the rollouts inside it', async () => {
      const abort = new AbortController()
      const response = await fetch(`${server.url}/rollouts?watch=true`, { headers: as('rita'), signal: abort.signal })
      expect(response.status).toBe(200)
      const stream = new SseStream(response, abort)
      try {
        await start('shop-')
        // The sentinel: a rollout she may read, started after the one she may not.
        const visible = await start('other-')
        const first = await stream.next(30_000)
        expect([first?.event, JSON.parse(first?.data ?? '{}').id]).toEqual(['created', visible])
      } finally {
        stream.close()
      }
    }, 60_000)

    it('when a reader limited to a prefix resumes with since, then the replay holds only the rollouts inside it', async () => {
      const listed = await fetch(`${server.url}/rollouts`, { headers: as('rita') })
      const since = Number(listed.headers.get('x-revision'))
      await start('shop-')
      const visible = await start('other-')
      const abort = new AbortController()
      const response = await fetch(`${server.url}/rollouts?watch=true&since=${since}`, {
        headers: as('rita'),
        signal: abort.signal,
      })
      expect(response.status).toBe(200)
      const stream = new SseStream(response, abort)
      const seen: string[] = []
      try {
        for (;;) {
          const message = await stream.next(30_000)
          const id = JSON.parse(message?.data ?? '{}').id as string
          seen.push(id)
          if (id === visible && message?.event === 'created') break
        }
      } finally {
        stream.close()
      }
      // The earlier test's rollouts may still log steps (its other- rollout is hers to see); no
      // event of any shop- rollout, this test's or an earlier one, reached her.
      const everyone = await fetch(`${server.url}/rollouts`, { headers: as('alice') })
      const items = ((await everyone.json()) as { items: { id: string; target: { prefix?: string } }[] }).items
      const hidden = new Set(items.filter((r) => r.target.prefix === 'shop-').map((r) => r.id))
      expect(hidden.size).toBe(2)
      expect(seen.filter((id) => hidden.has(id))).toEqual([])
    }, 60_000)
  })
}
