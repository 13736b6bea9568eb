/**
 * The WatchHub on a real SQLite store: how a watch starts while writes commit, how it counts
 * streams, and how it ends them. Streams are read as a client reads them (SSE parser); where a
 * socket matters (disconnects), the app is served on a real loopback port.
 */

import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { createApp } from '../../src/app.ts'
import {
  type ChangeListener,
  type ChangePageQuery,
  type ConfigStore,
  HistoryCompactedError,
} from '../../src/configs/config-store.ts'
import { WatchHub } from '../../src/http/watch/watch-hub.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { config } from '../support/configs.ts'
import { tempDir } from '../support/server.ts'
import { SseStream, watch } from '../support/sse.ts'
import { waitFor } from '../support/wait.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }

describe('WatchHub', () => {
  let dir: string
  let store: SqliteConfigStore
  let hub: WatchHub
  const streams: SseStream[] = []

  beforeEach(() => {
    dir = tempDir('watch-')
    store = new SqliteConfigStore({ path: join(dir, 'configs.db'), open: openBunSqlite })
    hub = new WatchHub(store, { heartbeatMs: 60_000, bufferEvents: 100, bufferBytes: 1 << 20 })
  })
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close()
    await hub.closeAll()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const open = async (since?: number) => {
    const stream = new SseStream(await hub.open({ since, filters: [] }))
    streams.push(stream)
    return stream
  }

  it('when writes commit while a watch start reads the history, then each arrives exactly once and in order', async () => {
    const before = await store.create(config('before'), author)
    // SQLite answers at once; a networked store does not. Writes land before and after the
    // history read, while the watcher is already subscribed: they must neither go missing
    // (subscribed too late) nor come twice (in the history and in the live buffer). The read is
    // held at both ends until the test has written, whatever the machine's speed.
    const held = heldHistory(store)
    const slow = new WatchHub(held.store, { heartbeatMs: 60_000, bufferEvents: 10_000, bufferBytes: 64 << 20 })
    const opening = slow.open({ since: before.revision, filters: [] })
    const written: number[] = []
    const write = async (name: string) => written.push((await store.create(config(name), author)).revision)
    await held.entered
    await write('before-read-1')
    await write('before-read-2')
    held.read()
    await held.done
    await write('after-read-1')
    await write('after-read-2')
    held.answer()
    const stream = new SseStream(await opening)
    streams.push(stream)
    await write('after')

    expect(written.length).toBe(5)
    const events = await stream.events(written.length)
    expect(events.map((e) => e.revision)).toEqual(written)
    // Nothing came twice: the next event is a later write's.
    const later = await store.create(config('later'), author)
    expect((await stream.events(1)).map((e) => e.revision)).toEqual([later.revision])
    expect(stream.messages.length).toBe(written.length + 1)
    await slow.closeAll()
  })

  it('when the store can no longer deliver without a gap, then the stream ends with an ERROR event saying to list again', async () => {
    // What a PostgreSQL replica does when cut off from its database for longer than the history.
    const losses: ((error: HistoryCompactedError) => void)[] = []
    const lossy = new Proxy<ConfigStore>(store, {
      get(target, property) {
        if (property === 'subscribe') {
          return (listener: ChangeListener, onLost?: (error: HistoryCompactedError) => void) => {
            if (onLost) losses.push(onLost)
            return target.subscribe(listener, onLost)
          }
        }
        const value = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const hub = new WatchHub(lossy, { heartbeatMs: 60_000, bufferEvents: 100, bufferBytes: 1 << 20 })
    const stream = new SseStream(await hub.open({ filters: [] }))
    streams.push(stream)
    expect(hub.connected()).toBe(1)
    for (const lose of losses) lose(new HistoryCompactedError(3, 9))
    await stream.until(() => stream.ended, 2000, 'the end of the stream')
    expect(stream.messages.map((m) => m.event)).toEqual(['ERROR'])
    const problem = JSON.parse(stream.messages[0]?.data ?? '{}')
    expect([problem.status, problem.type]).toEqual([410, 'urn:config-service:problem:gone'])
    expect(problem.detail).toContain('list again')
    expect(hub.connected()).toBe(0)
  })

  it('when a filtered replay crosses a MODIFIED event kept without its previous state, then it is refused as compacted, and an unfiltered one is not', async () => {
    const created = await store.create(config('a', { team: 'pay' }), author)
    const blind = await store.update('a', () => config('a', { team: 'ops' }), {}, author)
    // As a build that did not keep previous states left it (or an older replica wrote it).
    const other = new Database(join(dir, 'configs.db'))
    other.exec(`UPDATE events SET previous = NULL WHERE revision = ${blind.revision}`)
    other.close()
    const team = [{ path: ['metadata', 'team'], value: 'pay' }]

    const refused = await hub.open({ since: created.revision, filters: team }).catch((error) => error)
    expect(refused).toBeInstanceOf(HistoryCompactedError)
    expect(refused.oldestAvailable).toBe(blind.revision)
    const stream = new SseStream(await hub.open({ since: created.revision, filters: [] }))
    streams.push(stream)
    expect((await stream.events(1)).map((e) => [e.type, e.revision])).toEqual([['MODIFIED', blind.revision]])
    const resumed = new SseStream(await hub.open({ since: blind.revision, filters: team }))
    streams.push(resumed)
    const back = await store.update('a', () => config('a', { team: 'pay' }), {}, author)
    expect((await resumed.events(1)).map((e) => [e.type, e.revision])).toEqual([['ADDED', back.revision]])
  })

  it('when a stream is open, then connected counts it until it is cancelled', async () => {
    const stream = await open()
    expect(hub.connected()).toBe(1)
    await open()
    expect(hub.connected()).toBe(2)
    stream.close()
    await waitFor(() => hub.connected() === 1, 2000)
  })

  it('when closeAll runs, then every stream ends after what was queued and new watches get 503', async () => {
    const first = await open()
    const second = await open()
    const last = await store.create(config('queued'), author)
    await hub.closeAll()
    for (const stream of [first, second]) {
      await stream.until(() => stream.ended, 2000, 'the end of the stream')
      expect(stream.messages.map((m) => Number(m.id))).toEqual([last.revision])
    }
    expect(hub.connected()).toBe(0)
    await expect(hub.open({ filters: [] })).rejects.toMatchObject({ status: 503 })
  })

  it('when changes arrive together, then a watcher that keeps up gets them in one chunk, and the next one at once', async () => {
    const held = heldChanges(store)
    const together = new WatchHub(held.store, { heartbeatMs: 60_000, bufferEvents: 100, bufferBytes: 1 << 20 })
    const reader = (await together.open({ filters: [] })).body?.getReader() as ReadableStreamDefaultReader<Uint8Array>
    const text = async () => new TextDecoder().decode((await reader.read()).value)
    expect(await text()).toBe(': heartbeat\n\n')
    const written = [await store.create(config('one'), author), await store.create(config('two'), author)]
    await waitFor(() => held.changes === 2, 2000)
    held.release()
    const chunk = await text()
    expect([...chunk.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual(written.map((c) => c.revision))
    // One change alone is not held back for company.
    const alone = await store.create(config('three'), author)
    await waitFor(() => held.changes === 1, 2000)
    held.release()
    expect(await text()).toContain(`id: ${alone.revision}\n`)
    await reader.cancel()
    await together.closeAll()
  })

  it('when a client goes away over a real socket, then its watcher ends at once', async () => {
    const app = createApp({ store, watch: hub, maxBodyBytes: 65536 })
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch })
    try {
      const base = `http://127.0.0.1:${server.port}`
      const stream = await watch(base)
      await store.create(config('first'), author)
      await stream.events(1)
      expect(hub.connected()).toBe(1)
      stream.close()
      await waitFor(() => hub.connected() === 0, 2000)
    } finally {
      await server.stop(true)
    }
  })
})

/**
 * The same store, whose first history read waits for `read()` before it reads and for `answer()`
 * before it answers; `entered` and `done` say when it got there.
 */
function heldHistory(store: ConfigStore) {
  const entered = Promise.withResolvers<void>()
  const done = Promise.withResolvers<void>()
  const reading = Promise.withResolvers<void>()
  const answering = Promise.withResolvers<void>()
  let first = true
  const proxy = new Proxy(store, {
    get(target, property) {
      if (property === 'changesAfter') {
        return async (query: ChangePageQuery) => {
          if (!first) return target.changesAfter(query)
          first = false
          entered.resolve()
          await reading.promise
          const page = await target.changesAfter(query)
          done.resolve()
          await answering.promise
          return page
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {
    store: proxy,
    entered: entered.promise,
    done: done.promise,
    read: () => reading.resolve(),
    answer: () => answering.resolve(),
  }
}

/** The same store, whose changes reach the subscriber only on `release`, all in one go. */
function heldChanges(store: ConfigStore) {
  const listeners: ChangeListener[] = []
  let held: Parameters<ChangeListener>[0][] = []
  const proxy = new Proxy(store, {
    get(target, property) {
      if (property === 'subscribe') {
        return (listener: ChangeListener, onLost?: (error: HistoryCompactedError) => void) => {
          listeners.push(listener)
          return target.subscribe((event) => held.push(event), onLost)
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {
    store: proxy,
    get changes() {
      return held.length
    },
    release() {
      const events = held
      held = []
      for (const event of events) for (const listener of listeners) listener(event)
    },
  }
}
