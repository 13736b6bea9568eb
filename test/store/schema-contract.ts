/**
 * The schema part of the ConfigStore contract, run against every backend (sqlite.test.ts,
 * postgres.test.ts): schemas as versioned objects sharing the store's revisions, the check of
 * every config write under the store's lock, and dry runs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import type { ConfigStore } from '../../src/configs/config-store.ts'
import { CachedConfigStore } from '../../src/configs/read-model/cached-store.ts'
import {
  InvalidSchemaError,
  type SchemaDefinition,
  SchemaNotFoundError,
  SchemaPreconditionFailedError,
  SchemaPrefixTakenError,
  SchemaViolationError,
  SchemaViolatorsError,
} from '../../src/configs/schema-model.ts'
import { config } from '../support/configs.ts'
import type { StoreFixture } from './contract.ts'

const author = { actor: 'test', requestId: 'test-request' }
const dryRun = { ...author, dryRun: true }
/** Every `payments-` config has an integer `replicas` between 1 and 50. */
const replicas = (overrides: Partial<SchemaDefinition> = {}): SchemaDefinition => ({
  name: 'payments',
  prefix: 'payments-',
  mode: 'enforce',
  schema: {
    type: 'object',
    properties: { replicas: { type: 'integer', minimum: 1, maximum: 50 } },
    required: ['replicas'],
  },
  ...overrides,
})

/** Why a promise was refused (or undefined when it was not). */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  return undefined
}

export function describeSchemaContract(backend: string, makeFixture: () => Promise<StoreFixture>) {
  describe(`ConfigStore schemas contract: ${backend}`, () => {
    let fixture: StoreFixture
    let store: ConfigStore
    const opened: { close(): Promise<void> }[] = []
    const open = async () => {
      const handle = await fixture.open()
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

    it('when a schema is put, then it takes the next store revision and a later config write the one after', async () => {
      const before = await store.create(config('other-1'), author)
      const { stored, created } = await store.schemas.put(replicas(), {}, author, {})
      const after = await store.create(config('other-2'), author)
      expect(created).toBe(true)
      expect(stored.revision).toBe(before.revision + 1)
      expect(after.revision).toBe(stored.revision + 1)
      expect(await store.schemas.get('payments')).toEqual({ definition: replicas(), revision: stored.revision })
    })

    it('when a config breaks its enforce schema, then the create is refused with every violation and nothing is stored', async () => {
      await store.schemas.put(replicas(), {}, author, {})
      const error = await refusal(store.create(config('payments-1', { replicas: 99, extra: true }), author))
      expect(error).toBeInstanceOf(SchemaViolationError)
      expect((error as SchemaViolationError).violations).toEqual([
        { pointer: '/metadata/replicas', keyword: 'maximum', message: 'must be <= 50' },
      ])
      expect(await store.get('payments-1')).toBeUndefined()
    })

    it('when a required field is missing, then the violation points at the missing field', async () => {
      await store.schemas.put(replicas(), {}, author, {})
      const error = (await refusal(store.create(config('payments-1'), author))) as SchemaViolationError
      expect(error.violations.map((v) => [v.pointer, v.keyword])).toEqual([['/metadata/replicas', 'required']])
    })

    it('when a replace, a merge update or a rollback would break the schema, then each is refused', async () => {
      const first = await store.create(config('payments-1', { replicas: 'many' }), author)
      await store.replace(config('payments-1', { replicas: 3 }), {}, author)
      await store.schemas.put(replicas(), {}, author, { force: true })
      const replace = await refusal(store.replace(config('payments-1', { replicas: 0 }), {}, author))
      const update = await refusal(
        store.update('payments-1', (c) => ({ ...c, metadata: { replicas: 51 } }), {}, author),
      )
      const rollback = await refusal(store.rollback('payments-1', first.revision, {}, author))
      expect([replace, update, rollback].map((e) => e instanceof SchemaViolationError)).toEqual([true, true, true])
      expect((await store.get('payments-1'))?.config.metadata).toEqual({ replicas: 3 })
    })

    it('when the schema is in warn mode, then a breaking write is stored and answers the violations', async () => {
      const put = await store.schemas.put(replicas({ mode: 'warn' }), {}, author, {})
      const stored = await store.create(config('payments-1', { replicas: 0 }), author)
      expect(stored.warning).toEqual({
        schema: 'payments',
        revision: put.stored.revision,
        violations: [{ pointer: '/metadata/replicas', keyword: 'minimum', message: 'must be >= 1' }],
      })
      expect((await store.get('payments-1'))?.config.metadata).toEqual({ replicas: 0 })
    })

    it('when two schemas match a dcname, then the one with the longer prefix governs it', async () => {
      await store.schemas.put(replicas({ name: 'all', prefix: '' }), {}, author, {})
      await store.schemas.put(
        replicas({ name: 'eu', prefix: 'payments-eu-', schema: { type: 'object' } }),
        {},
        author,
        {},
      )
      const governedByEu = await store.create(config('payments-eu-1'), author)
      const refused = await refusal(store.create(config('payments-us-1'), author))
      expect(governedByEu.config.dcname).toBe('payments-eu-1')
      expect((refused as SchemaViolationError).schemaName).toBe('all')
    })

    it('when a second schema claims a prefix already governed, then it is refused', async () => {
      await store.schemas.put(replicas(), {}, author, {})
      const error = await refusal(store.schemas.put(replicas({ name: 'payments-too' }), {}, author, {}))
      expect(error).toBeInstanceOf(SchemaPrefixTakenError)
      expect(await store.schemas.get('payments-too')).toBeUndefined()
    })

    it('when an enforce schema would govern configs that break it, then it is refused with the violators', async () => {
      await store.create(config('payments-1', { replicas: 0 }), author)
      await store.create(config('payments-2', { replicas: 2 }), author)
      const error = await refusal(store.schemas.put(replicas(), {}, author, {}))
      expect(error).toBeInstanceOf(SchemaViolatorsError)
      expect((error as SchemaViolatorsError).violators.total).toBe(1)
      expect((error as SchemaViolatorsError).violators.items.map((v) => v.dcname)).toEqual(['payments-1'])
      expect(await store.schemas.get('payments')).toBeUndefined()
    })

    it('when it is forced, then it is stored and answers the violators', async () => {
      await store.create(config('payments-1', { replicas: 0 }), author)
      const { violators } = await store.schemas.put(replicas(), {}, author, { force: true })
      expect(violators.items.map((v) => v.dcname)).toEqual(['payments-1'])
      expect((await store.schemas.violators('payments')).total).toBe(1)
    })

    it('when configs under the prefix are governed by a longer prefix, then they are not counted as violators', async () => {
      await store.schemas.put(
        replicas({ name: 'eu', prefix: 'payments-eu-', schema: { type: 'object' } }),
        {},
        author,
        {},
      )
      await store.create(config('payments-eu-1'), author)
      const { stored } = await store.schemas.put(replicas(), {}, author, {})
      expect(stored.definition.name).toBe('payments')
    })

    it('when a schema refers outside itself, then it is refused as invalid', async () => {
      const remote = replicas({ schema: { $ref: 'https://example.com/schema.json' } })
      expect(await refusal(store.schemas.put(remote, {}, author, {}))).toBeInstanceOf(InvalidSchemaError)
    })

    it('when a schema is larger than 64 KiB, then it is refused as invalid', async () => {
      const large = replicas({ schema: { description: 'x'.repeat(65 * 1024) } })
      expect(await refusal(store.schemas.put(large, {}, author, {}))).toBeInstanceOf(InvalidSchemaError)
    })

    it('when Ajv cannot compile a schema, then it is refused as invalid', async () => {
      const unknown = replicas({ schema: { type: 'object', properites: {} } })
      const error = await refusal(store.schemas.put(unknown, {}, author, {}))
      expect((error as InvalidSchemaError).message).toContain('unknown keyword: "properites"')
    })

    it('when If-Match names another revision, then the schema write is refused and nothing changes', async () => {
      const { stored } = await store.schemas.put(replicas(), {}, author, {})
      const error = await refusal(
        store.schemas.put(replicas({ mode: 'warn' }), { ifMatch: stored.revision + 5 }, author, {}),
      )
      expect(error).toBeInstanceOf(SchemaPreconditionFailedError)
      expect((await store.schemas.get('payments'))?.definition.mode).toBe('enforce')
    })

    it('when a schema is deleted, then writes it refused pass again', async () => {
      const { stored } = await store.schemas.put(replicas(), {}, author, {})
      const revision = await store.schemas.delete('payments', { ifMatch: stored.revision }, author)
      const created = await store.create(config('payments-1'), author)
      expect(revision).toBe(stored.revision + 1)
      expect(created.revision).toBe(revision + 1)
      expect(await refusal(store.schemas.delete('payments', {}, author))).toBeInstanceOf(SchemaNotFoundError)
    })

    it('when schemas are listed, then each is answered by name with its revision', async () => {
      const b = await store.schemas.put(replicas({ name: 'b', prefix: 'b-' }), {}, author, {})
      const a = await store.schemas.put(replicas({ name: 'a', prefix: 'a-' }), {}, author, {})
      expect((await store.schemas.list()).map((s) => [s.definition.name, s.revision])).toEqual([
        ['a', a.stored.revision],
        ['b', b.stored.revision],
      ])
    })

    it('when a config write is a dry run, then it answers what it would store and stores nothing, not even an event', async () => {
      const existing = await store.create(config('payments-1', { replicas: 1 }), author)
      const { stored, created } = await store.replace(config('payments-1', { replicas: 2 }), {}, dryRun)
      expect(created).toBe(false)
      expect(stored.config.metadata).toEqual({ replicas: 2 })
      expect(await store.get('payments-1')).toEqual(existing)
      expect(await store.currentRevision()).toBe(existing.revision)
      expect((await store.changesAfter({ after: existing.revision, limit: 10, bytes: 1 << 20 })).events).toEqual([])
    })

    it('when a dry run breaks the schema, then it is refused as the write would be', async () => {
      await store.schemas.put(replicas(), {}, author, {})
      expect(await refusal(store.create(config('payments-1'), dryRun))).toBeInstanceOf(SchemaViolationError)
    })

    it('when a schema write is a dry run, then it answers the violators and stores nothing', async () => {
      await store.create(config('payments-1', { replicas: 0 }), author)
      const revision = await store.currentRevision()
      const { violators } = await store.schemas.put(replicas(), {}, dryRun, { force: true })
      expect(violators.total).toBe(1)
      expect(await store.schemas.get('payments')).toBeUndefined()
      expect(await store.currentRevision()).toBe(revision)
      expect(await refusal(store.create(config('payments-2'), author))).toBeUndefined()
    })

    it('when a schema is put through one handle, then a write through another handle is checked against it at once', async () => {
      const other = await open()
      await store.schemas.put(replicas(), {}, author, {})
      expect(await refusal(other.create(config('payments-1'), author))).toBeInstanceOf(SchemaViolationError)
      await store.schemas.put(replicas({ mode: 'warn' }), {}, author, {})
      expect((await other.create(config('payments-1'), author)).warning?.schema).toBe('payments')
    })

    it('when a schema write is the newest revision, then a consistent read model still answers reads', async () => {
      // As the service runs each backend: on PostgreSQL a revision-consistent model on another
      // replica's handle; on SQLite a synchronous one on the handle that writes.
      const postgres = store.backend === 'postgres'
      const consistency = postgres ? 'revision' : 'synchronous'
      const cached = new CachedConfigStore(postgres ? await open() : store, { consistency, waitTimeoutMs: 2000 })
      opened.push(cached)
      await cached.start()
      const writer = postgres ? store : cached
      await writer.create(config('payments-1', { replicas: 1 }), author)
      await writer.schemas.put(replicas(), {}, author, {})
      expect((await cached.get('payments-1'))?.config.metadata).toEqual({ replicas: 1 })
    })
  })
}
