/**
 * Schema history, rollback and the schema change feed, run against every backend
 * (sqlite.test.ts, postgres.test.ts): every schema write keeps the state it left, a past state
 * can be read and written again (through the same checks as any schema write), and the feed
 * hands every committed schema write to its subscribers, whichever handle made it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { type ConfigStore, HistoryCompactedError } from '../../src/configs/config-store.ts'
import { RevisionNotReachedError } from '../../src/configs/revision-rules.ts'
import { type SchemaChangeEvent, SchemaRevisionCompactedError } from '../../src/configs/schema-history.ts'
import {
  type SchemaDefinition,
  SchemaNotFoundError,
  SchemaPreconditionFailedError,
  SchemaViolatorsError,
} from '../../src/configs/schema-model.ts'
import { config } from '../support/configs.ts'
import { waitFor } from '../support/wait.ts'
import type { OpenOptions, StoreFixture } from './contract.ts'

const author = { actor: 'schema-author', requestId: 'req-1' }
const other = { actor: 'other-author', requestId: 'req-2' }

const replicas = (overrides: Partial<SchemaDefinition> = {}): SchemaDefinition => ({
  name: 'payments',
  prefix: 'payments-',
  mode: 'enforce',
  schema: { type: 'object', properties: { replicas: { type: 'integer', maximum: 50 } }, required: ['replicas'] },
  ...overrides,
})
const loose = (): SchemaDefinition => replicas({ schema: { type: 'object' } })

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  return undefined
}

export function describeSchemaHistoryContract(backend: string, makeFixture: () => Promise<StoreFixture>) {
  describe(`ConfigStore schema history contract: ${backend}`, () => {
    let fixture: StoreFixture
    let store: ConfigStore
    const opened: { close(): Promise<void> }[] = []
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

    it('when a schema is created, replaced and deleted, then its history lists each write newest first', async () => {
      const created = await store.schemas.put(replicas(), {}, author, {})
      const replaced = await store.schemas.put(loose(), {}, other, {})
      const deleted = await store.schemas.delete('payments', {}, author)
      const page = await store.schemas.history('payments', { limit: 10 })
      expect(page.more).toBe(false)
      expect(page.entries.map((e) => [e.revision, e.type, e.actor, e.requestId, e.definition])).toEqual([
        [deleted, 'DELETED', 'schema-author', 'req-1', loose()],
        [replaced.stored.revision, 'MODIFIED', 'other-author', 'req-2', loose()],
        [created.stored.revision, 'ADDED', 'schema-author', 'req-1', replicas()],
      ])
      expect(Date.parse(page.entries[0]?.time ?? '')).toBeGreaterThan(0)
    })

    it('when history is paged, then each page holds the entries below the last one of the previous', async () => {
      const revisions: number[] = []
      for (const mode of ['enforce', 'warn', 'enforce'] as const) {
        revisions.push((await store.schemas.put(replicas({ mode }), {}, author, {})).stored.revision)
      }
      const first = await store.schemas.history('payments', { limit: 2 })
      const second = await store.schemas.history('payments', { limit: 2, before: first.entries.at(-1)?.revision })
      expect(first.entries.map((e) => e.revision)).toEqual(revisions.slice(1).reverse())
      expect(first.more).toBe(true)
      expect(second.entries.map((e) => e.revision)).toEqual(revisions.slice(0, 1))
      expect(second.more).toBe(false)
    })

    it('when a schema never existed, then its history is SchemaNotFoundError', async () => {
      expect(await refusal(store.schemas.history('nothing', { limit: 10 }))).toBeInstanceOf(SchemaNotFoundError)
    })

    it('when a write is forced or refused, then the forced one is kept with force and the refused one not at all', async () => {
      await store.create(config('payments-1', { replicas: 99 }), author)
      const refused = await refusal(store.schemas.put(replicas(), {}, author, {}))
      const forced = await store.schemas.put(replicas(), {}, author, { force: true })
      const dry = await store.schemas.put(loose(), {}, { ...author, dryRun: true }, {})
      const { entries } = await store.schemas.history('payments', { limit: 10 })
      expect(refused).toBeInstanceOf(SchemaViolatorsError)
      expect(dry.stored.revision).toBe(forced.stored.revision + 1)
      expect(entries.map((e) => [e.revision, e.force])).toEqual([[forced.stored.revision, true]])
    })

    it('when a schema is read at past revisions, then each answers the state it had then', async () => {
      const before = await store.create(config('other-1'), author)
      const created = await store.schemas.put(replicas(), {}, author, {})
      const between = await store.create(config('other-2'), author)
      await store.schemas.put(loose(), {}, author, {})
      const deleted = await store.schemas.delete('payments', {}, author)
      expect(await store.schemas.getAt('payments', before.revision)).toBeUndefined()
      const then = { definition: replicas(), revision: created.stored.revision }
      expect(await store.schemas.getAt('payments', between.revision)).toEqual(then)
      expect(await store.schemas.getAt('payments', deleted)).toBeUndefined()
      expect(await refusal(store.schemas.getAt('payments', deleted + 5))).toBeInstanceOf(RevisionNotReachedError)
    })

    it('when a schema is rolled back, then that state is written again as a new revision naming it', async () => {
      const first = await store.schemas.put(replicas(), {}, author, {})
      const second = await store.schemas.put(loose(), {}, author, {})
      const rolled = await store.schemas.rollback('payments', first.stored.revision, {}, other, {})
      expect(rolled.created).toBe(false)
      expect(rolled.stored).toEqual({ definition: replicas(), revision: second.stored.revision + 1 })
      expect(await store.schemas.get('payments')).toEqual(rolled.stored)
      const [entry] = (await store.schemas.history('payments', { limit: 1 })).entries
      expect(entry).toMatchObject({ type: 'MODIFIED', actor: 'other-author', rollbackOf: first.stored.revision })
    })

    it('when a deleted schema is rolled back, then it exists again', async () => {
      const first = await store.schemas.put(replicas(), {}, author, {})
      await store.schemas.delete('payments', {}, author)
      const rolled = await store.schemas.rollback('payments', first.stored.revision, {}, author, {})
      expect(rolled.created).toBe(true)
      expect((await store.schemas.get('payments'))?.definition).toEqual(replicas())
      expect((await store.schemas.history('payments', { limit: 1 })).entries[0]?.type).toBe('ADDED')
    })

    it('when a rollback targets a revision without the schema, then it is SchemaNotFoundError and nothing changes', async () => {
      const before = await store.create(config('other-1'), author)
      const put = await store.schemas.put(replicas(), {}, author, {})
      const error = await refusal(store.schemas.rollback('payments', before.revision, {}, author, {}))
      expect(error).toBeInstanceOf(SchemaNotFoundError)
      expect((error as SchemaNotFoundError).revision).toBe(before.revision)
      expect(await store.schemas.get('payments')).toEqual(put.stored)
    })

    it('when If-Match of a rollback names an older revision, then it is refused', async () => {
      const first = await store.schemas.put(replicas(), {}, author, {})
      await store.schemas.put(loose(), {}, author, {})
      const ifMatch = first.stored.revision
      const error = await refusal(store.schemas.rollback('payments', first.stored.revision, { ifMatch }, author, {}))
      expect(error).toBeInstanceOf(SchemaPreconditionFailedError)
    })

    it('when configs break the enforce state a rollback restores, then it is refused unless forced', async () => {
      const first = await store.schemas.put(replicas(), {}, author, {})
      const second = await store.schemas.put(loose(), {}, author, {})
      await store.create(config('payments-1', { replicas: 99 }), author)
      const refused = await refusal(store.schemas.rollback('payments', first.stored.revision, {}, author, {}))
      expect(refused).toBeInstanceOf(SchemaViolatorsError)
      expect(await store.schemas.get('payments')).toEqual(second.stored)
      const forced = await store.schemas.rollback('payments', first.stored.revision, {}, author, { force: true })
      expect(forced.violators.items.map((v) => v.dcname)).toEqual(['payments-1'])
      expect((await store.schemas.history('payments', { limit: 1 })).entries[0]).toMatchObject({
        rollbackOf: first.stored.revision,
        force: true,
      })
    })

    it('when a rollback is a dry run, then it answers the state and stores nothing', async () => {
      const first = await store.schemas.put(replicas(), {}, author, {})
      const second = await store.schemas.put(loose(), {}, author, {})
      const dry = await store.schemas.rollback('payments', first.stored.revision, {}, { ...author, dryRun: true }, {})
      expect(dry.stored.definition).toEqual(replicas())
      expect(await store.schemas.get('payments')).toEqual(second.stored)
      expect((await store.schemas.history('payments', { limit: 10 })).entries).toHaveLength(2)
    })

    it('when retention keeps one entry, then older revisions read as compacted and replay before them is refused', async () => {
      const kept = await open({ retention: { keep: 1, days: 0 } })
      const first = await kept.schemas.put(replicas(), {}, author, {})
      await kept.schemas.put(loose(), {}, author, {})
      const last = await kept.schemas.put(replicas({ mode: 'warn' }), {}, author, {})
      const { entries } = await kept.schemas.history('payments', { limit: 10 })
      expect(entries.map((e) => e.revision)).toEqual([last.stored.revision])
      const old = await refusal(kept.schemas.getAt('payments', first.stored.revision))
      expect(old).toBeInstanceOf(SchemaRevisionCompactedError)
      expect((old as SchemaRevisionCompactedError).oldestKept).toBe(last.stored.revision)
      expect(await refusal(kept.schemas.changesAfter(0, 10))).toBeInstanceOf(HistoryCompactedError)
    })

    it('when schema and config writes interleave, then the schema changes after a revision are the schema writes only, in order', async () => {
      const start = await store.create(config('other-1'), author)
      const created = await store.schemas.put(replicas(), {}, author, {})
      await store.create(config('other-2'), author)
      const deleted = await store.schemas.delete('payments', {}, author)
      const page = await store.schemas.changesAfter(start.revision, 10)
      expect(page.events).toEqual([
        { type: 'ADDED', revision: created.stored.revision, definition: replicas() },
        { type: 'DELETED', revision: deleted, definition: replicas() },
      ])
      expect((await store.schemas.changesAfter(start.revision, 1)).more).toBe(true)
    })

    it('when a handle subscribes, then its schema writes reach it in order, config writes not', async () => {
      const writer = store
      const events: SchemaChangeEvent[] = []
      const unsubscribe = await store.schemas.subscribe(
        (event) => events.push(event),
        () => {},
      )
      try {
        const put = await writer.schemas.put(replicas(), {}, author, {})
        await writer.create(config('payments-1', { replicas: 1 }), author)
        const rolled = await writer.schemas.rollback('payments', put.stored.revision, {}, author, {})
        await waitFor(
          () => events.length >= 2,
          10_000,
          () => `two schema events, got ${JSON.stringify(events)}`,
        )
        expect(events.map((e) => [e.type, e.revision, e.rollbackOf])).toEqual([
          ['ADDED', put.stored.revision, undefined],
          ['MODIFIED', rolled.stored.revision, put.stored.revision],
        ])
      } finally {
        unsubscribe()
      }
    })
  })
}
