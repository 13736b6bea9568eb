/**
 * A watcher's budget, on the WatchHub over a real SQLite store, read as a client reads it: with
 * no socket in between, what the watcher holds is all that is held, so these tests count bytes
 * exactly. A client that reads nothing is a response body nobody reads; the pages of history
 * the hub reads are seen through the store it is given.
 */
import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { ChangePage, ChangePageQuery, ConfigStore } from '../../src/configs/config-store.ts'
import type { SseWatchOptions } from '../../src/http/watch/sse-watch.ts'
import { WatchHub } from '../../src/http/watch/watch-hub.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { config } from '../support/configs.ts'
import { tempDir } from '../support/server.ts'
import { SseStream } from '../support/sse.ts'

const author = { actor: 'test', requestId: 'test-request' }
const BUDGET = 64 * 1024
const BODY = 'x'.repeat(4096)

describe('watch replay within a byte budget', () => {
  let dir: string
  let store: SqliteConfigStore
  const hubs: WatchHub[] = []
  const streams: SseStream[] = []

  beforeEach(() => {
    dir = tempDir('watch-replay-')
    store = new SqliteConfigStore({ path: join(dir, 'configs.db'), open: openBunSqlite })
  })
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close()
    for (const hub of hubs.splice(0)) await hub.closeAll()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** `count` configs of 4 kB, written `together` at a time; their revisions in order. */
  const writeHistory = async (count: number, prefix = 'h', together = 100): Promise<number[]> => {
    const revisions: number[] = []
    for (let i = 0; i < count; i += together) {
      const batch = Array.from({ length: Math.min(together, count - i) }, (_, j) =>
        store.create(config(`${prefix}-${i + j}`, { body: BODY }), author),
      )
      for (const stored of await Promise.all(batch)) revisions.push(stored.revision)
    }
    return revisions.sort((a, b) => a - b)
  }

  /** A hub on the store, seeing each page it reads; `dropped` settles when it drops a watcher. */
  const hubOf = (options: Partial<SseWatchOptions> = {}) => {
    const pages: { query: ChangePageQuery; page: ChangePage; heldBefore: number }[] = []
    let drop!: (lastSent: number) => void
    const dropped = new Promise<number>((resolve) => {
      drop = resolve
    })
    const paged = new Proxy<ConfigStore>(store, {
      get(target, property) {
        if (property === 'changesAfter') {
          return async (query: ChangePageQuery) => {
            const heldBefore = hub.heldBytes()
            const page = await target.changesAfter(query)
            pages.push({ query, page, heldBefore })
            return page
          }
        }
        const value = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const hub = new WatchHub(paged, {
      heartbeatMs: 60_000,
      bufferEvents: 1000,
      bufferBytes: BUDGET,
      onFellBehind: drop,
      ...options,
    })
    hubs.push(hub)
    return { hub, pages, dropped }
  }

  const reading = (response: Response) => {
    const stream = new SseStream(response)
    streams.push(stream)
    return stream
  }

  it('when a live watcher reads nothing, then it holds at most its budget and is dropped by the event that would take it past', async () => {
    const { hub, dropped } = hubOf()
    const response = await hub.open({ filters: [] })
    let droppedAt: number | undefined
    void dropped.then(() => {
      droppedAt = writes
    })
    const held: number[] = []
    let writes = 0
    while (droppedAt === undefined && writes < 100) {
      await store.create(config(`live-${writes++}`, { body: BODY }), author)
      await new Promise((resolve) => setImmediate(resolve)) // the hub hands events over in the next turn
      held.push(hub.heldBytes())
    }
    // Each event is a frame of a little over 4 kB: the budget holds 15 of them, not 16.
    expect(droppedAt).toBe(16)
    expect(Math.max(...held)).toBeLessThanOrEqual(BUDGET)
    const messages = await readAll(response)
    expect(messages.at(-1)?.event).toBe('ERROR')
    expect(JSON.parse(messages.at(-1)?.data ?? '{}').type).toContain('watch-fell-behind')
  })

  it('when a client reads nothing of a replay of 2,000 events of 4 kB, then its watcher reads only the pages that fit its budget, holds no more, and is dropped with a final ERROR event', async () => {
    const history = await writeHistory(2000)
    const { hub, pages, dropped } = hubOf({ heartbeatMs: 20 })
    const response = await hub.open({ since: 0, filters: [] })
    const lastSent = await dropped

    const read = pages.flatMap(({ page }) => page.events.map((event) => event.revision))
    expect(read).toEqual(history.slice(0, read.length))
    expect(read.length * BODY.length).toBeLessThanOrEqual(2 * BUDGET)
    expect(Math.max(...pages.map(({ heldBefore }) => heldBefore))).toBeLessThanOrEqual(BUDGET / 2)
    expect(hub.connected()).toBe(0)
    const messages = await readAll(response)
    const last = messages.at(-1)
    expect(last?.event).toBe('ERROR')
    const problem = JSON.parse(last?.data ?? '{}')
    expect(problem.type).toContain('watch-fell-behind')
    const sent = messages.slice(0, -1).map((message) => Number(message.id))
    expect(sent).toEqual(history.slice(0, sent.length))
    expect(sent.at(-1)).toBe(lastSent)
    expect(problem.detail).toContain(`since=${lastSent}`)
  })

  it('when a client reads a replay while writes go on, then it gets every event once and in order, the history in pages', async () => {
    const history = await writeHistory(300)
    const { hub, pages } = hubOf()
    const stream = reading(await hub.open({ since: 0, filters: [] }))
    // Live events a few at a time: a burst larger than the budget would drop the watcher.
    const [replayed, live] = await Promise.all([stream.events(500, 30_000), writeHistory(200, 'live', 4)])
    expect(replayed.map((event) => event.revision)).toEqual([...history, ...live])
    expect(pages.length).toBeGreaterThan((300 * BODY.length) / BUDGET)
  })

  it('when more live events arrive during a replay than its watcher may hold, then they come from the store, each once and in order', async () => {
    const history = await writeHistory(100)
    const { hub, pages } = hubOf({ bufferEvents: 16 })
    const response = await hub.open({ since: 0, filters: [] })
    // Nobody reads yet: the replay waits while 50 live events arrive, more than 16.
    const live = await writeHistory(50, 'live')
    const stream = reading(response)
    const events = await stream.events(150, 30_000)
    expect(events.map((event) => event.revision)).toEqual([...history, ...live])
    const fromStore = pages.flatMap(({ page }) => page.events.map((event) => event.revision))
    expect(fromStore).toContain(live.at(-1) as number)
  })

  it('when a filtered replay finds a MODIFIED event kept without its previous state on a later page, then the stream ends with an ERROR saying to list again', async () => {
    const first = await store.create(config('a', { team: 'pay' }), author)
    const others: number[] = []
    for (let i = 0; i < 10; i++) others.push((await store.create(config(`pay-${i}`, { team: 'pay' }), author)).revision)
    const blind = await store.update('a', () => config('a', { team: 'pay', v: 2 }), {}, author)
    // As a build that did not keep previous states left it (or an older replica wrote it).
    const other = new Database(join(dir, 'configs.db'))
    other.exec(`UPDATE events SET previous = NULL WHERE revision = ${blind.revision}`)
    other.close()
    const { hub } = hubOf({ bufferEvents: 4 })
    const team = [{ path: ['metadata', 'team'], value: 'pay' }]
    const response = await hub.open({ since: first.revision - 1, filters: team })

    const messages = await readAll(response)
    const sent = messages.slice(0, -1).map((message) => Number(message.id))
    expect(sent.length).toBeGreaterThan(0)
    expect(sent).toEqual([first.revision, ...others].slice(0, sent.length))
    const last = messages.at(-1)
    expect(last?.event).toBe('ERROR')
    const problem = JSON.parse(last?.data ?? '{}')
    expect([problem.status, problem.type]).toEqual([410, 'urn:config-service:problem:gone'])
    expect(problem.detail).toContain('list again')
    expect(sent).not.toContain(blind.revision)
  })
})

/** The whole stream, once the service ended it, as an EventSource parses it (comments left out). */
async function readAll(response: Response): Promise<EventSourceMessage[]> {
  const messages: EventSourceMessage[] = []
  createParser({ onEvent: (message) => messages.push(message) }).feed(await response.text())
  return messages
}
