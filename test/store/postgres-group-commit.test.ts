/**
 * Group commit on the PostgreSQL store, against a real, throwaway PostgreSQL server: writes that
 * queue together share one transaction, yet each fails alone (a precondition, a value the
 * database refuses), the transaction as a whole fails as unavailable when its connection dies,
 * and across replicas no acknowledged write is lost and revisions stay consecutive.
 */
import { beforeAll, describe, expect, it } from 'bun:test'
import postgres from 'postgres'
import {
  type ChangeEvent,
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  StoreUnavailableError,
} from '../../src/configs/config-store.ts'
import { SchemaViolationError } from '../../src/configs/schema-model.ts'
import { MAX_BATCH } from '../../src/store/postgres/group-commit.ts'
import { PostgresConfigStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.ts'
import { config } from '../support/configs.ts'
import { type SharedPostgres, sharedPostgres } from '../support/postgres.ts'
import { waitFor } from '../support/wait.ts'
import { allChangesAfter } from './changes.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }

let server: SharedPostgres
beforeAll(async () => {
  server = await sharedPostgres()
}, 60_000)

const fast: Partial<PostgresStoreOptions> = { connectTimeoutMs: 2000, connectRetries: 0, feedRetryMs: 100 }
const asRole = (url: string, role: string) => url.replace('//postgres@', `//${role}@`)

/** Holds the store-wide write lock from a connection of its own until `release` is called. */
async function holdWriteLock(url: string): Promise<{ release: () => Promise<void> }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  let release = () => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  let locked = () => {}
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve
  })
  const holding = sql.begin(async (tx) => {
    await tx`UPDATE store_state SET revision = revision`
    locked()
    await released
  })
  await isLocked
  return {
    release: async () => {
      release()
      await holding
      await sql.end()
    },
  }
}

/** Waits until a session of `role` waits for a lock (the write lock the test holds). */
/** Kills the session of `role` that waits for a lock, once there is one; the role's other sessions live on. */
async function killLockWaiter(url: string, role: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const deadline = Date.now() + 10_000
    for (;;) {
      const [row] = await sql<{ killed: boolean }[]>`
        SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
        WHERE usename = ${role} AND wait_event_type = 'Lock'`
      if (row?.killed) return
      if (Date.now() > deadline) throw new Error(`no session of ${role} waits for a lock`)
      await Bun.sleep(20)
    }
  } finally {
    await sql.end()
  }
}

describe('PostgreSQL group commit', () => {
  it('when writes of one batch fail their preconditions, then they fail alone and the others commit with consecutive revisions', async () => {
    const url = await server.createDatabase('preconditions')
    const store = await PostgresConfigStore.open({ url, ...fast })
    try {
      const seen: ChangeEvent[] = []
      store.subscribe((event) => seen.push(event))
      const first = await store.create(config('a', { v: 0 }), author)
      // Issued in one turn: one batch, run in this order.
      const outcomes = await Promise.allSettled([
        store.create(config('b', { v: 1 }), author),
        store.replace(config('a', { v: 1 }), { ifMatch: first.revision }, author),
        store.replace(config('a', { v: 2 }), { ifMatch: first.revision }, author),
        store.create(config('b', { v: 2 }), author),
        store.delete('missing', {}, author),
        store.update('a', () => config('a', { v: 3 }), { ifMatch: first.revision }, author),
        store.create(config('c', { v: 1 }), author),
      ])
      const r = first.revision
      const values = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : o.reason))
      expect(values[0]).toEqual({ config: config('b', { v: 1 }), revision: r + 1 })
      expect(values[1]).toEqual({ stored: { config: config('a', { v: 1 }), revision: r + 2 }, created: false })
      expect(values[2]).toBeInstanceOf(PreconditionFailedError)
      expect(values[3]).toBeInstanceOf(ConflictError)
      expect(values[4]).toBeInstanceOf(NotFoundError)
      expect(values[5]).toBeInstanceOf(PreconditionFailedError)
      expect(values[6]).toEqual({ config: config('c', { v: 1 }), revision: r + 3 })

      const events = await allChangesAfter(store, r)
      expect(events.map((e) => [e.type, e.revision, e.config, e.previous])).toEqual([
        ['ADDED', r + 1, config('b', { v: 1 }), undefined],
        ['MODIFIED', r + 2, config('a', { v: 1 }), config('a', { v: 0 })],
        ['ADDED', r + 3, config('c', { v: 1 }), undefined],
      ])
      expect((await store.history('a', { limit: 10 })).entries.map((e) => [e.type, e.revision])).toEqual([
        ['MODIFIED', r + 2],
        ['ADDED', r],
      ])
      expect((await store.history('b', { limit: 10 })).entries.map((e) => e.revision)).toEqual([r + 1])
      expect(await store.currentRevision()).toBe(r + 3)
      await waitFor(() => seen.length >= 4, 10_000)
      expect(seen.map((e) => e.revision)).toEqual([r, r + 1, r + 2, r + 3])
    } finally {
      await store.close()
    }
  }, 20_000)

  it('when the database refuses one write of a batch, then that write fails alone and the others are stored', async () => {
    const url = await server.createDatabase('refused')
    const store = await PostgresConfigStore.open({ url, ...fast })
    try {
      const first = await store.create(config('before'), author)
      // A NUL character is valid in a JavaScript string and refused in PostgreSQL text.
      const outcomes = await Promise.allSettled([
        store.create(config('x-1'), author),
        store.create(config('bad\u0000name'), author),
        store.create(config('x-2'), author),
      ])
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: '22021' })
      expect((outcomes[2] as PromiseFulfilledResult<{ revision: number }>).value.revision).toBe(first.revision + 2)
      expect((await store.list({ filters: [], limit: 10 })).items.map((s) => s.config.dcname)).toEqual([
        'before',
        'x-1',
        'x-2',
      ])
      expect((await allChangesAfter(store, first.revision)).map((e) => e.revision)).toEqual([
        first.revision + 1,
        first.revision + 2,
      ])
    } finally {
      await store.close()
    }
  }, 20_000)

  it('when one batch writes one config several times, then each write sees the one before it and every event keeps the state it replaced', async () => {
    const url = await server.createDatabase('same_config')
    const store = await PostgresConfigStore.open({ url, ...fast })
    try {
      const first = await store.create(config('a', { v: 0 }), author)
      const r = first.revision
      // Issued in one turn: one batch. The If-Match values are the revisions the writes before
      // them in the batch take.
      const outcomes = await Promise.allSettled([
        store.update('a', () => config('a', { v: 1 }), {}, author),
        store.replace(config('a', { v: 2 }), { ifMatch: r + 1 }, author),
        store.replace(config('a', { v: 9 }), { ifMatch: r }, author),
        store.delete('a', { ifMatch: r + 2 }, author),
        store.update('a', () => config('a', { v: 9 }), {}, author),
        store.create(config('a', { v: 3 }), author),
        store.create(config('b'), author),
      ])
      const values = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : o.reason))
      expect(values[0]).toEqual({ config: config('a', { v: 1 }), revision: r + 1 })
      expect(values[1]).toEqual({ stored: { config: config('a', { v: 2 }), revision: r + 2 }, created: false })
      expect(values[2]).toBeInstanceOf(PreconditionFailedError)
      expect(values[3]).toBe(r + 3)
      expect(values[4]).toBeInstanceOf(NotFoundError)
      expect(values[5]).toEqual({ config: config('a', { v: 3 }), revision: r + 4 })
      expect(values[6]).toEqual({ config: config('b'), revision: r + 5 })

      const events = await allChangesAfter(store, r)
      expect(events.map((e) => [e.type, e.revision, e.config, e.previous])).toEqual([
        ['MODIFIED', r + 1, config('a', { v: 1 }), config('a', { v: 0 })],
        ['MODIFIED', r + 2, config('a', { v: 2 }), config('a', { v: 1 })],
        ['DELETED', r + 3, config('a', { v: 2 }), undefined],
        ['ADDED', r + 4, config('a', { v: 3 }), undefined],
        ['ADDED', r + 5, config('b'), undefined],
      ])
      expect(await store.get('a')).toEqual({ config: config('a', { v: 3 }), revision: r + 4 })
      expect((await store.history('a', { limit: 10 })).entries.map((e) => e.revision)).toEqual([
        r + 4,
        r + 3,
        r + 2,
        r + 1,
        r,
      ])
      expect(await store.currentRevision()).toBe(r + 5)
    } finally {
      await store.close()
    }
  }, 20_000)

  it('when writes of one batch break their governing schemas, then those refused fail alone, a warning is answered, and the others commit', async () => {
    const url = await server.createDatabase('schemas')
    const store = await PostgresConfigStore.open({ url, ...fast })
    try {
      const schema = { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] }
      await store.schemas.put({ name: 'strict', prefix: 'strict-', mode: 'enforce', schema }, {}, author, {})
      const loose = await store.schemas.put({ name: 'loose', prefix: 'loose-', mode: 'warn', schema }, {}, author, {})
      const r = loose.stored.revision
      const outcomes = await Promise.allSettled([
        store.create(config('strict-1', { n: 1 }), author),
        store.create(config('strict-2', { n: 0 }), author),
        store.create(config('loose-1', { n: 0 }), author),
        store.create(config('other', { n: 0 }), author),
      ])
      const values = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : o.reason))
      expect(values[0]).toEqual({ config: config('strict-1', { n: 1 }), revision: r + 1 })
      expect(values[1]).toBeInstanceOf(SchemaViolationError)
      expect(values[2]).toEqual({
        config: config('loose-1', { n: 0 }),
        revision: r + 2,
        warning: {
          schema: 'loose',
          revision: r,
          violations: [{ pointer: '/metadata/n', keyword: 'minimum', message: 'must be >= 1' }],
        },
      })
      expect(values[3]).toEqual({ config: config('other', { n: 0 }), revision: r + 3 })
      expect((await store.list({ filters: [], limit: 10 })).items.map((s) => s.config.dcname)).toEqual([
        'loose-1',
        'other',
        'strict-1',
      ])
    } finally {
      await store.close()
    }
  }, 20_000)

  it('when the database refuses a value that only the store statement of a batch holds, then that write fails alone and the others are stored', async () => {
    const url = await server.createDatabase('refused_actor')
    const store = await PostgresConfigStore.open({ url, ...fast })
    try {
      const first = await store.create(config('before'), author)
      // The actor (a JWT subject, say) is written with the event, after every read of the batch.
      const outcomes = await Promise.allSettled([
        store.create(config('x-1'), author),
        store.create(config('x-2'), { actor: 'bad\u0000actor', requestId: 'r' }),
        store.create(config('x-3'), author),
      ])
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: '22021' })
      expect((await allChangesAfter(store, first.revision)).map((e) => [e.revision, e.config.dcname])).toEqual([
        [first.revision + 1, 'x-1'],
        [first.revision + 2, 'x-3'],
      ])
      expect(await store.get('x-2')).toBeUndefined()
    } finally {
      await store.close()
    }
  }, 20_000)

  it('when a dry run is queued between writes of one batch, then it is undone alone and the writes around it commit', async () => {
    const url = await server.createDatabase('dry_run')
    const store = await PostgresConfigStore.open({ url, ...fast })
    try {
      const first = await store.create(config('before'), author)
      const r = first.revision
      const [a, dry, c] = await Promise.all([
        store.create(config('a'), author),
        store.create(config('dry'), { ...author, dryRun: true }),
        store.create(config('c'), author),
      ])
      expect(a).toEqual({ config: config('a'), revision: r + 1 })
      expect(dry).toEqual({ config: config('dry'), revision: r + 2 })
      expect(c).toEqual({ config: config('c'), revision: r + 2 })
      expect(await store.get('dry')).toBeUndefined()
      expect((await allChangesAfter(store, r)).map((e) => e.revision)).toEqual([r + 1, r + 2])
    } finally {
      await store.close()
    }
  }, 20_000)

  it(`when the connection of a batch is killed before it commits, then all its writes fail with StoreUnavailableError and none is stored; a batch holds at most ${MAX_BATCH}`, async () => {
    const url = await server.createDatabase('killed_batch')
    const role = await server.createRole('batcher')
    const store = await PostgresConfigStore.open({ url: asRole(url, role), ...fast })
    try {
      const before = await store.create(config('before'), author)
      const lock = await holdWriteLock(url)
      const writes = MAX_BATCH + 10
      const pending = Array.from({ length: writes }, (_, i) =>
        store.replace(config(`w-${i}`, { i }), {}, author).then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      )
      // The first batch waits for the write lock: kill its connection there (and only it: the
      // pool's idle connections may still be closing when the next batch takes one), then let go.
      await killLockWaiter(url, role)
      await lock.release()
      const outcomes = await Promise.all(pending)

      const failed = outcomes.slice(0, MAX_BATCH)
      for (const outcome of failed)
        expect(outcome.ok ? outcome.value : outcome.error).toBeInstanceOf(StoreUnavailableError)
      // Those beyond the bound waited for the next transaction, on a new connection.
      const later = outcomes.slice(MAX_BATCH)
      expect(later.map((o) => o.ok)).toEqual(later.map(() => true))
      const revisions = later.map((o) => (o.ok ? o.value.stored.revision : 0))
      expect(revisions).toEqual(revisions.map((_, i) => before.revision + 1 + i))

      const stored = (await store.list({ filters: [], limit: 1000 })).items.map((s) => s.config.dcname)
      expect(stored.sort()).toEqual(['before', ...later.map((_, i) => `w-${MAX_BATCH + i}`)].sort())
      expect(await store.countHistory()).toBe(1 + later.length)
    } finally {
      await store.close()
    }
  }, 30_000)

  it('when writers on several replicas increment one counter with If-Match, then no acknowledged increment is lost and revisions have no gaps', async () => {
    const url = await server.createDatabase('counter')
    const replicas = await Promise.all(Array.from({ length: 3 }, () => PostgresConfigStore.open({ url, ...fast })))
    try {
      const start = await replicas[0]?.create(config('counter', { n: 0 }), author)
      let acknowledged = 0
      const writer = async (store: PostgresConfigStore, worker: number) => {
        for (let done = 0; done < 8; ) {
          const current = await store.get('counter')
          if (!current) throw new Error('counter is gone')
          const n = current.config.metadata.n as number
          try {
            await store.replace(config('counter', { n: n + 1 }), { ifMatch: current.revision }, author)
            acknowledged++
            done++
          } catch (error) {
            if (!(error instanceof PreconditionFailedError)) throw error
          }
          // Writes of other configs in the same batches, so that batches mix outcomes.
          await store.replace(config(`other-${worker}`, { done }), {}, author)
        }
      }
      await Promise.all(replicas.flatMap((store, r) => Array.from({ length: 4 }, (_, w) => writer(store, r * 4 + w))))
      const final = await replicas[1]?.get('counter')
      expect(final?.config.metadata.n).toBe(acknowledged)
      expect(acknowledged).toBe(3 * 4 * 8)
      // Every revision after the start is one event, and each increment's event carries the
      // state it replaced: the value just below its own.
      const events = await allChangesAfter(replicas[2] as PostgresConfigStore, start?.revision as number)
      expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => (start?.revision as number) + 1 + i))
      expect(events.length + 1).toBe((await replicas[2]?.countHistory()) as number)
      for (const event of events.filter((e) => e.config.dcname === 'counter')) {
        expect(event.previous?.metadata.n).toBe((event.config.metadata.n as number) - 1)
      }
    } finally {
      await Promise.all(replicas.map((store) => store.close()))
    }
  }, 60_000)
})
