/**
 * The ConfigStore contract, written once and run against every backend
 * (sqlite.test.ts, postgres.test.ts). A backend passes when it behaves exactly like this.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import {
  type ChangeEvent,
  type ConfigStore,
  ConflictError,
  HistoryCompactedError,
  type ListQuery,
  NotFoundError,
  PreconditionFailedError,
  type RetentionPolicy,
  StoreUnavailableError,
} from '../../src/configs/config-store.ts'
import type { Config } from '../../src/configs/model.ts'
import { config } from '../support/configs.ts'
import { waitFor } from '../support/wait.ts'
import { allChangesAfter } from './changes.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }

/** What a test may set when it opens a store (both backends take these options). */
export interface OpenOptions {
  historySize?: number
  retention?: RetentionPolicy
  /** The clock of history entries and of the retention window. */
  now?: () => number
  pruneIntervalMs?: number
}

/** Both backends can be told to run retention now rather than at the next tick of its timer. */
export type TestStore = ConfigStore & { pruneHistory(): Promise<void> }

export interface StoreFixture {
  /** Opens a new handle on the same, initially empty database. */
  open(options?: OpenOptions): Promise<TestStore>
  /** Removes the database. */
  dispose(): Promise<void>
}

export function describeConfigStoreContract(backend: string, makeFixture: () => Promise<StoreFixture>) {
  describe(`ConfigStore contract: ${backend}`, () => {
    let fixture: StoreFixture
    let store: ConfigStore
    const opened: ConfigStore[] = []
    const open = async (options?: OpenOptions) => {
      const handle = await fixture.open(options)
      opened.push(handle)
      return handle
    }

    beforeEach(async () => {
      fixture = await makeFixture()
      store = await open()
    })
    afterEach(async () => {
      for (const handle of opened.splice(0)) await handle.close().catch(() => {})
      await fixture.dispose()
    })

    it('when a config is created, then get returns it with a positive revision', async () => {
      const created = await store.create(config('dc-a', { team: 'x' }), author)
      expect(created.revision).toBeGreaterThan(0)
      expect(await store.get('dc-a')).toEqual({ config: config('dc-a', { team: 'x' }), revision: created.revision })
    })

    it('when the dcname is taken, then create fails with ConflictError and nothing changes', async () => {
      const first = await store.create(config('dc-a', { v: 1 }), author)
      await expect(store.create(config('dc-a', { v: 2 }), author)).rejects.toBeInstanceOf(ConflictError)
      expect(await store.get('dc-a')).toEqual(first)
    })

    it('when a config is missing, then get returns undefined', async () => {
      expect(await store.get('nope')).toBeUndefined()
    })

    it('when writes happen, then revisions strictly increase across configs, including deletions', async () => {
      const a = await store.create(config('a'), author)
      const b = await store.create(config('b'), author)
      const a2 = await store.replace(config('a', { v: 2 }), {}, author)
      const deleted = await store.delete('b', {}, author)
      const c = await store.update('a', (current) => ({ ...current, metadata: { v: 3 } }), {}, author)
      const revisions = [a.revision, b.revision, a2.stored.revision, deleted, c.revision]
      expect([...revisions].sort((x, y) => x - y)).toEqual(revisions)
      expect(new Set(revisions).size).toBe(revisions.length)
    })

    it('when replace targets a missing config, then it creates it', async () => {
      const result = await store.replace(config('dc-new', { v: 1 }), {}, author)
      expect(result.created).toBe(true)
      const again = await store.replace(config('dc-new', { v: 2 }), {}, author)
      expect(again.created).toBe(false)
      expect((await store.get('dc-new'))?.config.metadata).toEqual({ v: 2 })
    })

    it('when If-Match differs from the stored revision, then replace fails and the config is unchanged', async () => {
      const stored = await store.create(config('dc-a', { v: 1 }), author)
      await expect(
        store.replace(config('dc-a', { v: 2 }), { ifMatch: stored.revision + 100 }, author),
      ).rejects.toBeInstanceOf(PreconditionFailedError)
      expect(await store.get('dc-a')).toEqual(stored)
      const ok = await store.replace(config('dc-a', { v: 3 }), { ifMatch: stored.revision }, author)
      expect(ok.stored.revision).toBeGreaterThan(stored.revision)
    })

    it('when If-Match names a config that is gone, then replace, update and delete fail with 412 semantics', async () => {
      await expect(store.replace(config('ghost'), { ifMatch: 1 }, author)).rejects.toBeInstanceOf(
        PreconditionFailedError,
      )
      await expect(store.replace(config('ghost'), { ifMatch: '*' }, author)).rejects.toBeInstanceOf(
        PreconditionFailedError,
      )
      await expect(store.update('ghost', (c) => c, { ifMatch: 1 }, author)).rejects.toBeInstanceOf(
        PreconditionFailedError,
      )
      await expect(store.delete('ghost', { ifMatch: 1 }, author)).rejects.toBeInstanceOf(PreconditionFailedError)
      expect(await store.get('ghost')).toBeUndefined()
    })

    it('when If-None-Match is *, then replace only creates', async () => {
      await store.replace(config('once', { v: 1 }), { ifNoneMatch: '*' }, author)
      await expect(store.replace(config('once', { v: 2 }), { ifNoneMatch: '*' }, author)).rejects.toBeInstanceOf(
        PreconditionFailedError,
      )
      expect((await store.get('once'))?.config.metadata).toEqual({ v: 1 })
    })

    it('when update runs, then the change sees the stored config and its result is stored', async () => {
      await store.create(config('dc-a', { keep: true, n: 1 }), author)
      const updated = await store.update(
        'dc-a',
        (current) => ({ ...current, metadata: { ...current.metadata, n: 2 } }),
        {},
        author,
      )
      expect(updated.config).toEqual(config('dc-a', { keep: true, n: 2 }))
      expect(await store.get('dc-a')).toEqual(updated)
    })

    it('when the change throws, then update writes nothing and the error reaches the caller', async () => {
      const stored = await store.create(config('dc-a', { n: 1 }), author)
      const refusal = new Error('refused')
      await expect(
        store.update(
          'dc-a',
          () => {
            throw refusal
          },
          {},
          author,
        ),
      ).rejects.toBe(refusal)
      expect(await store.get('dc-a')).toEqual(stored)
      const next = await store.create(config('dc-b'), author)
      expect(next.revision).toBe(stored.revision + 1)
    })

    it('when update or delete target a missing config, then they fail with NotFoundError', async () => {
      await expect(store.update('ghost', (c) => c, {}, author)).rejects.toBeInstanceOf(NotFoundError)
      await expect(store.delete('ghost', {}, author)).rejects.toBeInstanceOf(NotFoundError)
    })

    it('when a config is deleted with a matching If-Match, then it is gone', async () => {
      const stored = await store.create(config('dc-a'), author)
      await expect(store.delete('dc-a', { ifMatch: stored.revision + 1 }, author)).rejects.toBeInstanceOf(
        PreconditionFailedError,
      )
      const revision = await store.delete('dc-a', { ifMatch: stored.revision }, author)
      expect(revision).toBeGreaterThan(stored.revision)
      expect(await store.get('dc-a')).toBeUndefined()
      expect(await store.count()).toBe(0)
    })

    it('when many updates run concurrently, then none is lost', async () => {
      await store.create(config('counter', { n: 0 }), author)
      await Promise.all(
        Array.from({ length: 50 }, () =>
          store.update('counter', (c) => ({ ...c, metadata: { n: (c.metadata.n as number) + 1 } }), {}, author),
        ),
      )
      expect((await store.get('counter'))?.config.metadata).toEqual({ n: 50 })
    })

    describe('list', () => {
      beforeEach(async () => {
        await store.create(config('b-2', { monitoring: { enabled: true }, tier: 'gold', size: 3 }), author)
        await store.create(
          config('a-1', { monitoring: { enabled: 'true' }, tier: 'silver', nested: { x: { y: 1 } } }),
          author,
        )
        await store.create(config('c-3', { monitoring: { enabled: false }, tier: 'gold', list: [1, 2] }), author)
        await store.create(config('B-0', { tier: null }), author)
      })

      const names = (page: { items: { config: Config }[] }) => page.items.map((i) => i.config.dcname)

      it('when listing without filters, then configs come sorted by dcname (byte order)', async () => {
        const page = await store.list({ filters: [], limit: 100 })
        expect(names(page)).toEqual(['B-0', 'a-1', 'b-2', 'c-3'])
        expect(page.more).toBe(false)
      })

      it('when a limit cuts the list, then more is set and `after` continues where it stopped', async () => {
        const first = await store.list({ filters: [], limit: 3 })
        expect(names(first)).toEqual(['B-0', 'a-1', 'b-2'])
        expect(first.more).toBe(true)
        const second = await store.list({ filters: [], limit: 3, after: 'b-2' })
        expect(names(second)).toEqual(['c-3'])
        expect(second.more).toBe(false)
      })

      it('when filtering on a boolean leaf, then true matches both true and "true"', async () => {
        const page = await store.list({
          filters: [{ path: ['metadata', 'monitoring', 'enabled'], value: 'true' }],
          limit: 10,
        })
        expect(names(page)).toEqual(['a-1', 'b-2'])
      })

      it('when several filters are given, then all must match', async () => {
        const page = await store.list({
          filters: [
            { path: ['metadata', 'tier'], value: 'gold' },
            { path: ['metadata', 'monitoring', 'enabled'], value: 'false' },
          ],
          limit: 10,
        })
        expect(names(page)).toEqual(['c-3'])
      })

      it('when filtering on numbers, nested paths, null and dcname, then the JSON text must equal the value', async () => {
        const by = async (path: string[], value: string) =>
          names(await store.list({ filters: [{ path, value }], limit: 10 }))
        expect(await by(['metadata', 'size'], '3')).toEqual(['b-2'])
        expect(await by(['metadata', 'size'], '"3"')).toEqual([])
        expect(await by(['metadata', 'nested', 'x', 'y'], '1')).toEqual(['a-1'])
        expect(await by(['metadata', 'tier'], 'null')).toEqual(['B-0'])
        expect(await by(['dcname'], 'c-3')).toEqual(['c-3'])
        expect(await by(['metadata', 'missing'], 'gold')).toEqual([])
      })

      it('when the filter points at an object or array, then it does not match', async () => {
        const page = await store.list({ filters: [{ path: ['metadata', 'list'], value: '[1,2]' }], limit: 10 })
        expect(names(page)).toEqual([])
        const objects = await store.list({
          filters: [{ path: ['metadata', 'nested'], value: '{"x":{"y":1}}' }],
          limit: 10,
        })
        expect(names(objects)).toEqual([])
      })

      it('when a filter path has a numeric segment, then it names an object key and never an array item', async () => {
        const item = await store.list({ filters: [{ path: ['metadata', 'list', '0'], value: '1' }], limit: 10 })
        expect(names(item)).toEqual([])
        await store.create(config('d-4', { byIndex: { '0': 'zero' } }), author)
        const key = await store.list({ filters: [{ path: ['metadata', 'byIndex', '0'], value: 'zero' }], limit: 10 })
        expect(names(key)).toEqual(['d-4'])
      })

      describe('within prefixes (a caller scope)', () => {
        beforeEach(async () => {
          // Neighbours of the ranges: the byte after '-' is '.', '_' and '%' are no wildcards here.
          for (const dcname of [
            'pay-1',
            'pay-2',
            'pay-3',
            'pay.x',
            'pay',
            'pa_y-1',
            'payments-9',
            'Pay-1',
            'b_2',
            'bx2',
          ])
            await store.create(config(dcname, { tier: 'gold' }), author)
        })
        const within = async (prefixes: string[] | undefined, extra: Partial<ListQuery> = {}) =>
          names(await store.list({ filters: [], limit: 100, prefixes, ...extra }))

        it('when prefixes are given, then only dcnames starting with one of them come back, in order', async () => {
          expect(await within(['pay-'])).toEqual(['pay-1', 'pay-2', 'pay-3'])
          expect(await within(['pay-', 'B-'])).toEqual(['B-0', 'pay-1', 'pay-2', 'pay-3'])
          expect(await within(['pay'])).toEqual(['pay', 'pay-1', 'pay-2', 'pay-3', 'pay.x', 'payments-9'])
          expect(await within(['b_'])).toEqual(['b_2'])
          expect(await within(['pa_'])).toEqual(['pa_y-1'])
          expect(await within(['pay-1'])).toEqual(['pay-1'])
          expect(await within(['zzz'])).toEqual([])
        })

        it('when the prefixes are empty, then nothing comes back; when undefined, everything', async () => {
          expect(await within([])).toEqual([])
          expect((await within(undefined)).length).toBe(14)
        })

        it('when a limit cuts a scoped list, then pages are full and `after` continues inside the scope', async () => {
          const first = await store.list({ filters: [], limit: 2, prefixes: ['pay-', 'a-'] })
          expect([names(first), first.more]).toEqual([['a-1', 'pay-1'], true])
          const second = await store.list({ filters: [], limit: 2, prefixes: ['pay-', 'a-'], after: 'pay-1' })
          expect([names(second), second.more]).toEqual([['pay-2', 'pay-3'], false])
        })

        it('when filters and prefixes are combined, then both must hold', async () => {
          const gold = [{ path: ['metadata', 'tier'], value: 'gold' }]
          expect(await within(['pay-', 'b-', 'c-'], { filters: gold })).toEqual([
            'b-2',
            'c-3',
            'pay-1',
            'pay-2',
            'pay-3',
          ])
          expect(await within(['pay-'], { filters: [{ path: ['dcname'], value: 'pay-2' }] })).toEqual(['pay-2'])
          expect(await within(['pay-'], { filters: [{ path: ['dcname'], value: 'b-2' }] })).toEqual([])
          expect(await within(['c-', 'pay-'], { filters: gold, limit: 2, after: 'c-3' })).toEqual(['pay-1', 'pay-2'])
        })
      })

      it('when listing, then the page carries the store revision of the latest write', async () => {
        const latest = await store.replace(config('z-9'), {}, author)
        const page = await store.list({ filters: [], limit: 1 })
        expect(page.revision).toBe(latest.stored.revision)
        const deleted = await store.delete('z-9', {}, author)
        expect((await store.list({ filters: [], limit: 1 })).revision).toBe(deleted)
      })

      it('when counting, then it reflects creations and deletions', async () => {
        expect(await store.count()).toBe(4)
        await store.delete('a-1', {}, author)
        expect(await store.count()).toBe(3)
      })
    })

    describe('seed', () => {
      const seeds = [config('seed-1', { v: 1 }), config('seed-2', { v: 2 })]

      it('when the store is new, then seed stores the configs once', async () => {
        expect(await store.seed(seeds, author)).toBe(true)
        expect(await store.count()).toBe(2)
        expect(await store.seed(seeds, author)).toBe(false)
        expect(await store.count()).toBe(2)
      })

      it('when seeded configs were deleted, then seeding again (after a reopen) does not bring them back', async () => {
        await store.seed(seeds, author)
        await store.delete('seed-1', {}, author)
        await store.delete('seed-2', {}, author)
        await store.close()
        const reopened = await open()
        expect(await reopened.seed(seeds, author)).toBe(false)
        expect(await reopened.count()).toBe(0)
      })

      it('when the store already holds configs, then seed leaves it alone', async () => {
        await store.create(config('mine'), author)
        expect(await store.seed(seeds, author)).toBe(false)
        expect((await store.list({ filters: [], limit: 10 })).items.map((i) => i.config.dcname)).toEqual(['mine'])
      })
    })

    it('when the store is reopened, then it keeps configs and continues revisions', async () => {
      const stored = await store.create(config('durable', { v: 1 }), author)
      await store.close()
      const reopened = await open()
      expect(await reopened.get('durable')).toEqual(stored)
      const next = await reopened.create(config('next'), author)
      expect(next.revision).toBeGreaterThan(stored.revision)
    })

    describe('changes', () => {
      const summary = (events: ChangeEvent[]) => events.map((e) => [e.type, e.config.dcname, e.revision])

      it('when writes commit, then subscribers get every change in revision order, and failed writes send nothing', async () => {
        const seen: ChangeEvent[] = []
        const unsubscribe = store.subscribe((event) => seen.push(event))
        const a = await store.create(config('a', { v: 1 }), author)
        await expect(store.create(config('a'), author)).rejects.toBeInstanceOf(ConflictError)
        const a2 = await store.update('a', (c) => ({ ...c, metadata: { v: 2 } }), {}, author)
        const gone = await store.delete('a', {}, author)
        await waitFor(() => seen.length >= 3)
        unsubscribe()
        await store.create(config('after-unsubscribe'), author)
        await Bun.sleep(50)
        expect(summary(seen)).toEqual([
          ['ADDED', 'a', a.revision],
          ['MODIFIED', 'a', a2.revision],
          ['DELETED', 'a', gone],
        ])
        expect(seen[1]?.config.metadata).toEqual({ v: 2 })
        expect(seen[2]?.config.metadata).toEqual({ v: 2 })
      })

      it('when asked for events since a revision, then the history after it comes back in order', async () => {
        const a = await store.create(config('a'), author)
        const b = await store.replace(config('b'), {}, author)
        const c = await store.replace(config('a', { v: 2 }), {}, author)
        const events = await allChangesAfter(store, a.revision)
        expect(summary(events)).toEqual([
          ['ADDED', 'b', b.stored.revision],
          ['MODIFIED', 'a', c.stored.revision],
        ])
        expect(await allChangesAfter(store, c.stored.revision)).toEqual([])
      })

      it('when asked for events since a revision, then each MODIFIED event carries the config as it was before it', async () => {
        const a = await store.create(config('a', { v: 1 }), author)
        await store.replace(config('a', { v: 2 }), {}, author)
        await store.update('a', (c) => ({ ...c, metadata: { v: 3 } }), {}, author)
        await store.replace(config('b', { v: 1 }), {}, author)
        await store.delete('a', {}, author)
        const events = await allChangesAfter(store, a.revision - 1)
        expect(events.map((e) => [e.type, e.config.dcname, e.config.metadata, e.previous?.metadata])).toEqual([
          ['ADDED', 'a', { v: 1 }, undefined],
          ['MODIFIED', 'a', { v: 2 }, { v: 1 }],
          ['MODIFIED', 'a', { v: 3 }, { v: 2 }],
          ['ADDED', 'b', { v: 1 }, undefined],
          ['DELETED', 'a', { v: 3 }, undefined],
        ])
      })

      it('when a page of events is asked for, then it holds at most `limit` of them in order and says whether more follow', async () => {
        const revisions: number[] = []
        for (let i = 0; i < 5; i++) revisions.push((await store.create(config(`p-${i}`), author)).revision)
        const start = (revisions[0] as number) - 1
        const first = await store.changesAfter({ after: start, limit: 2, bytes: 1 << 20 })
        expect([first.events.map((e) => e.revision), first.more]).toEqual([revisions.slice(0, 2), true])
        const last = await store.changesAfter({ after: revisions[2] as number, limit: 2, bytes: 1 << 20 })
        expect([last.events.map((e) => e.revision), last.more]).toEqual([revisions.slice(3), false])
        const none = await store.changesAfter({ after: revisions[4] as number, limit: 2, bytes: 1 << 20 })
        expect([none.events, none.more]).toEqual([[], false])
      })

      it('when a page of events is bounded in bytes, then it stops before the bound, yet always holds the first event', async () => {
        const big = { blob: 'x'.repeat(1000) }
        const a = await store.create(config('a', big), author)
        const b = await store.replace(config('a', { ...big, v: 2 }), {}, author)
        const c = await store.create(config('c', big), author)
        // b counts twice: its config and the state it replaced.
        const pages = [600, 1100, 3200, 4300].map((bytes) =>
          store.changesAfter({ after: a.revision - 1, limit: 10, bytes }),
        )
        const summary = (await Promise.all(pages)).map((page) => [page.events.map((e) => e.revision), page.more])
        expect(summary).toEqual([
          [[a.revision], true],
          [[a.revision], true],
          [[a.revision, b.stored.revision], true],
          [[a.revision, b.stored.revision, c.revision], false],
        ])
      })

      it('when the history is bounded, then a revision older than it is refused with HistoryCompactedError', async () => {
        await store.close()
        const small = await open({ historySize: 3 })
        const revisions: number[] = []
        for (let i = 0; i < 6; i++) revisions.push((await small.replace(config(`h-${i}`), {}, author)).stored.revision)
        await expect(allChangesAfter(small, 0)).rejects.toBeInstanceOf(HistoryCompactedError)
        const kept = await allChangesAfter(small, revisions[2] as number)
        expect(kept.map((e) => e.revision)).toEqual(revisions.slice(3))
      })
    })

    it('when the store is closed, then reads and writes fail with StoreUnavailableError', async () => {
      await store.create(config('before-close'), author)
      await store.close()
      await expect(store.get('before-close')).rejects.toBeInstanceOf(StoreUnavailableError)
      await expect(store.list({ filters: [], limit: 10 })).rejects.toBeInstanceOf(StoreUnavailableError)
      await expect(store.create(config('after-close'), author)).rejects.toBeInstanceOf(StoreUnavailableError)
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError)
    })

    it('when pinged, then a working store answers', async () => {
      await store.ping()
    })
  })
}
