/**
 * The history part of the ConfigStore contract (entries, reads at a revision, rollback,
 * retention), run against every backend beside contract.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import {
  type ChangeEvent,
  type ConfigStore,
  NotFoundError,
  PreconditionFailedError,
  RevisionCompactedError,
  type WriteMeta,
} from '../../src/configs/config-store.ts'
import { RevisionNotReachedError } from '../../src/configs/revision-rules.ts'
import { config } from '../support/configs.ts'
import { waitFor } from '../support/wait.ts'
import { allChangesAfter } from './changes.ts'
import type { OpenOptions, StoreFixture, TestStore } from './contract.ts'

const by = (actor: string, requestId = `req-${actor}`): WriteMeta => ({ actor, requestId })
const DAY = 86_400_000

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2026-01-01T00:00:00.000Z')) {
  let now = start
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

export function describeHistoryContract(backend: string, makeFixture: () => Promise<StoreFixture>) {
  describe(`ConfigStore history contract: ${backend}`, () => {
    let fixture: StoreFixture
    let store: TestStore
    let clock = manualClock()
    const opened: ConfigStore[] = []
    const open = async (options?: OpenOptions) => {
      const handle = await fixture.open({ now: () => clock.now(), ...options })
      opened.push(handle)
      return handle
    }
    const history = async (s: ConfigStore, dcname: string) => (await s.history(dcname, { limit: 1000 })).entries
    const summary = (entries: { type: string; revision: number }[]) => entries.map((e) => [e.type, e.revision])

    beforeEach(async () => {
      clock = manualClock()
      fixture = await makeFixture()
      store = await open()
    })
    afterEach(async () => {
      for (const handle of opened.splice(0)) await handle.close().catch(() => {})
      await fixture.dispose()
    })

    it('when a config is created, replaced, patched and deleted, then history has one entry per write, newest first', async () => {
      const created = await store.create(config('h', { v: 1 }), by('alice', 'r-1'))
      clock.advance(1000)
      const replaced = await store.replace(config('h', { v: 2 }), {}, by('bob', 'r-2'))
      const patched = await store.update('h', (c) => ({ ...c, metadata: { v: 3 } }), {}, by('carol', 'r-3'))
      await store.create(config('other'), by('dave'))
      const deleted = await store.delete('h', {}, by('erin', 'r-4'))
      const entries = await history(store, 'h')
      expect(summary(entries)).toEqual([
        ['DELETED', deleted],
        ['MODIFIED', patched.revision],
        ['MODIFIED', replaced.stored.revision],
        ['ADDED', created.revision],
      ])
      expect(entries.map((e) => [e.actor, e.requestId])).toEqual([
        ['erin', 'r-4'],
        ['carol', 'r-3'],
        ['bob', 'r-2'],
        ['alice', 'r-1'],
      ])
      // DELETED carries the last state; the others the state they wrote.
      expect(entries.map((e) => e.config)).toEqual([
        config('h', { v: 3 }),
        config('h', { v: 3 }),
        config('h', { v: 2 }),
        config('h', { v: 1 }),
      ])
      expect(entries.at(-1)?.time).toBe('2026-01-01T00:00:00.000Z')
      expect(entries[0]?.time).toBe(new Date(clock.now()).toISOString())
    })

    it('when a write was made by no request (the seed), then its entry has no requestId', async () => {
      expect(await store.seed([config('seeded')], { actor: 'seed', requestId: '' })).toBe(true)
      const [entry] = await history(store, 'seeded')
      expect(entry?.actor).toBe('seed')
      expect(entry !== undefined && 'requestId' in entry).toBe(false)
    })

    it('when a write fails, then it leaves no history entry', async () => {
      const created = await store.create(config('h', { v: 1 }), by('a'))
      await expect(store.replace(config('h', { v: 2 }), { ifMatch: created.revision + 9 }, by('b'))).rejects.toThrow()
      await expect(store.create(config('h'), by('c'))).rejects.toThrow()
      expect(summary(await history(store, 'h'))).toEqual([['ADDED', created.revision]])
    })

    it('when history is paged, then `before` continues below the last revision seen', async () => {
      const revisions: number[] = []
      for (let v = 0; v < 5; v++) revisions.push((await store.replace(config('p', { v }), {}, by('a'))).stored.revision)
      const first = await store.history('p', { limit: 2 })
      expect(first.entries.map((e) => e.revision)).toEqual(revisions.slice(3).reverse())
      expect(first.more).toBe(true)
      const second = await store.history('p', { limit: 2, before: first.entries.at(-1)?.revision })
      expect(second.entries.map((e) => e.revision)).toEqual(revisions.slice(1, 3).reverse())
      const last = await store.history('p', { limit: 2, before: second.entries.at(-1)?.revision })
      expect(last.entries.map((e) => e.revision)).toEqual(revisions.slice(0, 1))
      expect(last.more).toBe(false)
    })

    it('when a config was deleted, then its history stays; a name that never existed has none (NotFoundError)', async () => {
      const created = await store.create(config('gone'), by('a'))
      const deleted = await store.delete('gone', {}, by('a'))
      expect(summary(await history(store, 'gone'))).toEqual([
        ['DELETED', deleted],
        ['ADDED', created.revision],
      ])
      await expect(store.history('never', { limit: 10 })).rejects.toBeInstanceOf(NotFoundError)
      await expect(store.history('never', { limit: 10, before: 5 })).rejects.toBeInstanceOf(NotFoundError)
    })

    it('when read at a revision, then the state of that moment comes back with the revision of the write that made it', async () => {
      const before = await store.create(config('unrelated'), by('a'))
      const v1 = await store.create(config('g', { v: 1 }), by('a'))
      const between = await store.create(config('unrelated-2'), by('a'))
      const v2 = await store.replace(config('g', { v: 2 }), {}, by('a'))
      const deleted = await store.delete('g', {}, by('a'))
      expect(await store.getAt('g', before.revision)).toBeUndefined()
      expect(await store.getAt('g', v1.revision)).toEqual({ config: config('g', { v: 1 }), revision: v1.revision })
      expect(await store.getAt('g', between.revision)).toEqual({ config: config('g', { v: 1 }), revision: v1.revision })
      expect(await store.getAt('g', v2.stored.revision)).toEqual({
        config: config('g', { v: 2 }),
        revision: v2.stored.revision,
      })
      expect(await store.getAt('g', deleted)).toBeUndefined()
      expect(await store.getAt('never', deleted)).toBeUndefined()
    })

    it('when read at a revision after the current one, then getAt fails with RevisionNotReachedError naming the current revision', async () => {
      const v1 = await store.create(config('f', { v: 1 }), by('a'))
      expect(await store.getAt('f', v1.revision)).toEqual(v1)
      const error = await store.getAt('f', v1.revision + 1).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(RevisionNotReachedError)
      expect(error).toMatchObject({ revision: v1.revision + 1, currentRevision: v1.revision })
      await expect(store.getAt('never', 5_000_000)).rejects.toBeInstanceOf(RevisionNotReachedError)
    })

    describe('rollback', () => {
      it('when rolled back, then the old state is written again as a new revision, with its entry, and watched as MODIFIED', async () => {
        const v1 = await store.create(config('r', { v: 1 }), by('a'))
        const v2 = await store.replace(config('r', { v: 2 }), {}, by('a'))
        const seen: ChangeEvent[] = []
        store.subscribe((event) => seen.push(event))
        const result = await store.rollback('r', v1.revision, {}, by('ops', 'r-rb'))
        expect(result.created).toBe(false)
        expect(result.stored.revision).toBeGreaterThan(v2.stored.revision)
        expect(result.stored.config).toEqual(config('r', { v: 1 }))
        expect(await store.get('r')).toEqual(result.stored)
        const [newest] = await history(store, 'r')
        expect(newest).toMatchObject({
          type: 'MODIFIED',
          revision: result.stored.revision,
          actor: 'ops',
          requestId: 'r-rb',
        })
        await waitFor(() => seen.length >= 1)
        expect(seen.map((e) => [e.type, e.revision])).toEqual([['MODIFIED', result.stored.revision]])
      })

      it('when rolled back, then its history entry names the revision it restored, and other entries name none', async () => {
        const v1 = await store.create(config('rb', { v: 1 }), by('a'))
        await store.replace(config('rb', { v: 2 }), {}, by('a'))
        await store.rollback('rb', v1.revision, {}, by('ops'))
        const entries = await history(store, 'rb')
        expect(entries.map((e) => e.rollbackOf)).toEqual([v1.revision, undefined, undefined])
        expect('rollbackOf' in (entries[1] as object)).toBe(false)
      })

      it('when rolled back, then the live event and the replayed one name the revision it restored', async () => {
        const v1 = await store.create(config('rw', { v: 1 }), by('a'))
        const v2 = await store.replace(config('rw', { v: 2 }), {}, by('a'))
        const seen: ChangeEvent[] = []
        store.subscribe((event) => seen.push(event))
        const result = await store.rollback('rw', v1.revision, {}, by('ops'))
        await waitFor(() => seen.length >= 1)
        expect(seen.map((e) => [e.revision, e.rollbackOf])).toEqual([[result.stored.revision, v1.revision]])
        const replayed = await store.changesAfter({ after: v1.revision, limit: 10, bytes: 1 << 20 })
        expect(replayed.events.map((e) => [e.revision, e.rollbackOf])).toEqual([
          [v2.stored.revision, undefined],
          [result.stored.revision, v1.revision],
        ])
      })

      it('when a deleted config is rolled back, then its ADDED entry names the revision it restored', async () => {
        const v1 = await store.create(config('rd', { v: 1 }), by('a'))
        await store.delete('rd', {}, by('a'))
        await store.rollback('rd', v1.revision, {}, by('a'))
        const [newest] = await history(store, 'rd')
        expect([newest?.type, newest?.rollbackOf]).toEqual(['ADDED', v1.revision])
      })

      it('when a deleted config is rolled back, then it is created again (created, watched as ADDED)', async () => {
        const v1 = await store.create(config('u', { v: 1 }), by('a'))
        await store.delete('u', {}, by('a'))
        const seen: ChangeEvent[] = []
        store.subscribe((event) => seen.push(event))
        const result = await store.rollback('u', v1.revision, {}, by('a'))
        expect(result.created).toBe(true)
        expect(await store.get('u')).toEqual({ config: config('u', { v: 1 }), revision: result.stored.revision })
        await waitFor(() => seen.length >= 1)
        expect(seen.map((e) => e.type)).toEqual(['ADDED'])
      })

      it('when If-Match is stale, then rollback fails with PreconditionFailedError and writes nothing', async () => {
        const v1 = await store.create(config('m', { v: 1 }), by('a'))
        const v2 = await store.replace(config('m', { v: 2 }), {}, by('a'))
        await expect(store.rollback('m', v1.revision, { ifMatch: v1.revision }, by('a'))).rejects.toBeInstanceOf(
          PreconditionFailedError,
        )
        expect(await store.get('m')).toEqual(v2.stored)
        expect(await history(store, 'm')).toHaveLength(2)
        const ok = await store.rollback('m', v1.revision, { ifMatch: v2.stored.revision }, by('a'))
        expect(ok.stored.config).toEqual(config('m', { v: 1 }))
      })

      it('when rolled back to a revision after the current one, then it fails with RevisionNotReachedError and writes nothing', async () => {
        const v1 = await store.create(config('p', { v: 1 }), by('a'))
        const error = await store.rollback('p', 5_000_000, {}, by('a')).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(RevisionNotReachedError)
        expect((error as Error).message).toBe(`revision 5000000 is after the current revision ${v1.revision}`)
        expect(await store.currentRevision()).toBe(v1.revision)
        expect(await history(store, 'p')).toHaveLength(1)
        const atCurrent = await store.rollback('p', v1.revision, {}, by('a'))
        expect(atCurrent.stored.config).toEqual(config('p', { v: 1 }))
      })

      it('when the config did not exist at the revision, then rollback fails with NotFoundError', async () => {
        const other = await store.create(config('first'), by('a'))
        const v1 = await store.create(config('n', { v: 1 }), by('a'))
        const deleted = await store.delete('n', {}, by('a'))
        await expect(store.rollback('n', other.revision, {}, by('a'))).rejects.toBeInstanceOf(NotFoundError)
        await expect(store.rollback('n', deleted, {}, by('a'))).rejects.toBeInstanceOf(NotFoundError)
        await expect(store.rollback('never', v1.revision, {}, by('a'))).rejects.toBeInstanceOf(NotFoundError)
        expect(await store.get('n')).toBeUndefined()
      })
    })

    describe('retention', () => {
      it('when HISTORY_RETENTION_DAYS is 0, then only the newest HISTORY_KEEP entries stay, and older revisions answer compacted', async () => {
        await store.close()
        const small = await open({ retention: { keep: 3, days: 0 }, historySize: 1 })
        const revisions: number[] = []
        for (let v = 0; v < 10; v++)
          revisions.push((await small.replace(config('k', { v }), {}, by('a'))).stored.revision)
        await small.pruneHistory()
        expect((await history(small, 'k')).map((e) => e.revision)).toEqual(revisions.slice(7).reverse())
        expect(small.droppedHistory()).toBe(7)
        expect(await small.countHistory()).toBe(3)
        const oldest = revisions[7] as number
        const compacted = await small.getAt('k', revisions[2] as number).catch((error: unknown) => error)
        expect(compacted).toBeInstanceOf(RevisionCompactedError)
        expect((compacted as RevisionCompactedError).oldestKept).toBe(oldest)
        await expect(small.rollback('k', revisions[0] as number, {}, by('a'))).rejects.toBeInstanceOf(
          RevisionCompactedError,
        )
        expect(await small.getAt('k', oldest)).toEqual({ config: config('k', { v: 7 }), revision: oldest })
        expect((await small.rollback('k', oldest, {}, by('a'))).stored.config).toEqual(config('k', { v: 7 }))
      })

      it('when entries are dropped, then it happens within seconds of the write, without being asked', async () => {
        await store.close()
        const small = await open({ retention: { keep: 2, days: 0 }, historySize: 1, pruneIntervalMs: 50 })
        for (let v = 0; v < 6; v++) await small.replace(config('t', { v }), {}, by('a'))
        await waitFor(async () => (await history(small, 't')).length === 2)
      })

      it('when entries are older than HISTORY_RETENTION_DAYS, then those beyond HISTORY_KEEP go, and younger ones stay', async () => {
        await store.close()
        const aged = await open({ retention: { keep: 2, days: 30 }, historySize: 1 })
        const old: number[] = []
        for (let v = 0; v < 4; v++) old.push((await aged.replace(config('d', { v }), {}, by('a'))).stored.revision)
        clock.advance(29 * DAY)
        const recent = (await aged.replace(config('d', { v: 4 }), {}, by('a'))).stored.revision
        await aged.pruneHistory()
        expect(await history(aged, 'd')).toHaveLength(5)
        clock.advance(2 * DAY)
        await aged.pruneHistory()
        // The first four are past the window; the newest of them is still among the newest two.
        expect((await history(aged, 'd')).map((e) => e.revision)).toEqual([recent, ...old.slice(3)])
        await expect(aged.getAt('d', old[1] as number)).rejects.toBeInstanceOf(RevisionCompactedError)
      })

      it('when writes are newer than WATCH_HISTORY_SIZE, then retention keeps them for watch replay', async () => {
        await store.close()
        const small = await open({ retention: { keep: 1, days: 0 }, historySize: 4 })
        const revisions: number[] = []
        for (let v = 0; v < 8; v++)
          revisions.push((await small.replace(config('w', { v }), {}, by('a'))).stored.revision)
        await small.pruneHistory()
        expect((await history(small, 'w')).map((e) => e.revision)).toEqual(revisions.slice(4).reverse())
        const replay = await allChangesAfter(small, revisions[3] as number)
        expect(replay.map((e) => e.revision)).toEqual(revisions.slice(4))
      })

      it('when thousands of revisions go to one config, then the stored history stays bounded', async () => {
        await store.close()
        const keep = 20
        const watchHistory = 100
        const busy = await open({ retention: { keep, days: 0 }, historySize: watchHistory, pruneIntervalMs: 20 })
        const writes = 3000
        let largest = 0
        for (let v = 0; v < writes; v++) {
          await busy.replace(config('busy', { v }), {}, by('a'))
          if (v % 250 === 0) largest = Math.max(largest, await busy.countHistory())
        }
        await busy.pruneHistory()
        const stored = await busy.countHistory()
        console.log(
          `${backend}: ${writes} revisions of one config, history stored: ${stored} entries (at most ${largest} seen while writing), ${busy.droppedHistory()} dropped`,
        )
        expect(stored).toBe(watchHistory)
        expect(largest).toBeLessThan(1000)
        expect(busy.droppedHistory()).toBe(writes - watchHistory)
      }, 120_000)
    })
  })
}
