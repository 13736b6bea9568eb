import { describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { ChangeEvent } from '../../src/configs/config-store.ts'
import type { SchemaChangeEvent } from '../../src/configs/schema-history.ts'
import { EarlyEvents } from '../../src/configs/watch/early-events.ts'
import { WatchPosition } from '../../src/configs/watch/watch-position.ts'
import { schemaWatchStart } from '../../src/configs/watch/watch-start.ts'
import { WatchView } from '../../src/configs/watch-view.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { config } from '../support/configs.ts'
import { tempDir } from '../support/server.ts'

const event = (revision: number, dcname = 'dc-1'): ChangeEvent => ({ type: 'ADDED', revision, config: config(dcname) })

describe('WatchPosition', () => {
  it('when an event at or below the position arrives, then it is dropped as a duplicate', () => {
    const position = new WatchPosition(WatchView.unfiltered(), 5)
    expect(position.take(event(5))).toBeUndefined()
    expect(position.take(event(6))?.revision).toBe(6)
    expect(position.take(event(6))).toBeUndefined()
    expect(position.revision).toBe(6)
  })

  it('when an event is outside the view, then it moves the position but is not sent', () => {
    const position = new WatchPosition(WatchView.unfiltered(['team-a-']), 0)
    expect(position.take(event(1, 'team-b-1'))).toBeUndefined()
    expect(position.take(event(2, 'team-a-1'))?.revision).toBe(2)
    expect(position.revision).toBe(2)
  })
})

describe('a schema watch', () => {
  const schemaEvent = (revision: number): SchemaChangeEvent => ({
    type: 'MODIFIED',
    revision,
    definition: { name: 'replicas', prefix: 'dc-', mode: 'warn', schema: { type: 'object' } },
  })

  it('when schema events come in, then the same position drops duplicates and shows the rest whole', () => {
    const position = new WatchPosition<SchemaChangeEvent>(undefined, 3)
    expect(position.take(schemaEvent(3))).toBeUndefined()
    const shown = schemaEvent(4)
    expect(position.take(shown)).toBe(shown)
    expect(position.take(schemaEvent(4))).toBeUndefined()
  })

  it('when schema events are held before going live, then they are held and measured as config events are', () => {
    const early = new EarlyEvents<SchemaChangeEvent>((e) => e.definition.name.length)
    early.add(schemaEvent(5))
    early.add(schemaEvent(6))
    expect(early.bytes).toBe(2 * 'replicas'.length)
    early.keepAfter(5)
    expect(early.takeAll().map((e) => e.revision)).toEqual([6])
  })

  it('when it starts on a real store, then it starts at the store revision, or replays the schema history after `since`', async () => {
    const dir = tempDir('schema-watch-start-')
    const store = new SqliteConfigStore({ path: join(dir, 'configs.db'), open: openBunSqlite })
    try {
      const meta = { actor: 'test', requestId: 'r' }
      const definition = { name: 'replicas', prefix: 'dc-', mode: 'warn' as const, schema: { type: 'object' } }
      const written = (await store.schemas.put(definition, {}, meta, {})).stored.revision
      const live = await schemaWatchStart(store.schemas, undefined)
      expect(live).toMatchObject({ from: written, replay: false })
      const replay = await schemaWatchStart(store.schemas, 0)
      expect(replay).toMatchObject({ from: 0, replay: true })
      const page = await replay.readChanges(0, 10, 1)
      expect(page.events.map((e) => [e.type, e.revision, e.definition.name])).toEqual([['ADDED', written, 'replicas']])
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('EarlyEvents', () => {
  it('when a page found nothing more and nothing was let go meanwhile, then the replay caught up, keeping only later events', () => {
    const early = new EarlyEvents(() => 10)
    const begun = early.readBegins()
    early.add(event(3))
    early.add(event(4))
    early.pageRead(3, false, begun)
    expect(early.caughtUp).toBe(true)
    expect(early.takeAll().map((e) => e.revision)).toEqual([4])
  })

  it('when events were let go during the read, or the history holds more, then the replay reads on', () => {
    const early = new EarlyEvents(() => 10)
    const begun = early.readBegins()
    early.add(event(3))
    early.letGo()
    early.pageRead(2, false, begun)
    expect(early.caughtUp).toBe(false)
    early.pageRead(2, true, early.readBegins())
    expect(early.caughtUp).toBe(false)
  })

  it('when events are held, then their bytes are what the measure says', () => {
    const early = new EarlyEvents((e) => e.revision * 100)
    early.add(event(1))
    early.add(event(2))
    expect(early.bytes).toBe(300)
    early.keepAfter(1)
    expect(early.bytes).toBe(200)
  })
})
