/**
 * The PostgreSQL store against a real, throwaway PostgreSQL server of its own (the outage tests
 * stop it, so it cannot be the run's shared one): the shared store contract (a new database per
 * test), then what only PostgreSQL has: migrations raced by several replicas, changes across
 * handles, and the database going away and coming back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import postgres from 'postgres'
import {
  type ChangeEvent,
  HistoryCompactedError,
  PreconditionFailedError,
  RevisionCompactedError,
  StoreUnavailableError,
} from '../../src/configs/config-store.ts'
import { SchemaRevisionCompactedError } from '../../src/configs/schema-history.ts'
import { loadSettings } from '../../src/settings.ts'
import { MIGRATIONS, migrate } from '../../src/store/postgres/postgres-migrations.ts'
import { PostgresConfigStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.ts'
import { config } from '../support/configs.ts'
import { type PostgresServer, startPostgres } from '../support/postgres.ts'
import { type RunningServer, startServer } from '../support/server.ts'
import { waitFor } from '../support/wait.ts'
import { allChangesAfter } from './changes.ts'
import { describeConfigStoreContract, type StoreFixture } from './contract.ts'
import { describeHistoryContract } from './history-contract.ts'
import { describeSchemaContract } from './schema-contract.ts'
import { describeSchemaHistoryContract } from './schema-history-contract.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }

let server: PostgresServer
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
// Generous: stopping a cluster many files wrote to takes long on a busy machine, and nothing
// is checked here.
afterAll(async () => {
  await server?.dispose()
}, 120_000)

const fast: Partial<PostgresStoreOptions> = { connectTimeoutMs: 2000, connectRetries: 0, feedRetryMs: 100 }
const asRole = (url: string, role: string) => url.replace('//postgres@', `//${role}@`)

// First: stopping the server makes it write out every dirty page, and the more databases the
// other tests have made by then, the longer that takes.
describe('when the database goes away', () => {
  let url: string
  let store: PostgresConfigStore
  let service: RunningServer
  const seen: ChangeEvent[] = []

  beforeAll(async () => {
    url = await server.createDatabase('outage')
    store = await PostgresConfigStore.open({ url, ...fast })
    store.subscribe((event) => seen.push(event))
    service = await startServer({ databaseUrl: url, env: { SEED: 'false', DATABASE_CONNECT_TIMEOUT_MS: '2000' } })
  }, 30_000)
  afterAll(async () => {
    if (!server.running()) server.start()
    await store?.close()
    await service?.stop()
  }, 30_000)

  it('then requests answer 503 problem+json, readiness and ping fail, and all recover without a restart', async () => {
    const before = await fetch(`${service.url}/configs/before`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { v: 1 } }),
    })
    expect(before.status).toBe(201)
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200)

    server.stop('fast')

    const down = await fetch(`${service.url}/configs`)
    expect(down.status).toBe(503)
    expect(down.headers.get('content-type')).toContain('application/problem+json')
    expect(((await down.json()) as { status: number }).status).toBe(503)
    const write = await fetch(`${service.url}/configs/during`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: {} }),
    })
    expect(write.status).toBe(503)
    await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 503, 10_000)
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.get('before')).rejects.toBeInstanceOf(StoreUnavailableError)

    server.start()

    await waitFor(async () => (await fetch(`${service.url}/configs`)).status === 200, 10_000)
    await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200, 10_000)
    await store.ping()
    const after = await fetch(`${service.url}/configs/after`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { v: 2 } }),
    })
    expect(after.status).toBe(201)
    // The subscriber's LISTEN came back too: it sees the write the service made after the outage.
    await waitFor(() => seen.some((e) => e.config.dcname === 'after'), 10_000)
    expect(seen.map((e) => e.config.dcname)).toEqual(['before', 'after'])
  }, 30_000)

  it('then a replica starting meanwhile waits for it (connect retries), or without retries fails with StoreUnavailableError', async () => {
    server.stop('fast')
    await expect(PostgresConfigStore.open({ url, ...fast, connectRetries: 0 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    )
    const opening = PostgresConfigStore.open({ url, ...fast, connectRetries: 30 })
    await Bun.sleep(300)
    server.start()
    const late = await opening
    try {
      expect((await late.get('after'))?.config.metadata).toEqual({ v: 2 })
    } finally {
      await late.close()
    }
  }, 30_000)
})

// Each fixture gets a new database; the next one is created while the current test runs.
let upcoming: Promise<string> | undefined
const nextDatabase = () => {
  const current = upcoming ?? server.createDatabase('contract')
  upcoming = server.createDatabase('contract')
  upcoming.catch(() => {})
  return current
}

const contractFixture = async (): Promise<StoreFixture> => {
  const url = await nextDatabase()
  return {
    open: (options) => PostgresConfigStore.open({ url, ...fast, ...options }),
    // Left in place (see createDatabase): the cluster goes as a whole after this file.
    dispose: async () => {},
  }
}

describeConfigStoreContract('postgres', contractFixture)
describeHistoryContract('postgres', contractFixture)
describeSchemaContract('postgres', contractFixture)
describeSchemaHistoryContract('postgres', contractFixture)

describe('PostgreSQL store', () => {
  it('when several replicas start at once on a new database, then the schema is migrated exactly once', async () => {
    const url = await server.createDatabase('migrate')
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresConfigStore.open({ url, ...fast })))
    try {
      const sql = postgres(url, { max: 1, onnotice: () => {} })
      const versions = await sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`
      expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version))
      expect(await migrate(sql)).toEqual([])
      await sql.end()
      const seeded = await Promise.all(stores.map((store) => store.seed([config('seed-1'), config('seed-2')], author)))
      expect(seeded.filter(Boolean)).toHaveLength(1)
      expect(await stores[0]?.count()).toBe(2)
    } finally {
      await Promise.all(stores.map((store) => store.close()))
    }
  }, 20_000)

  it('when the schema is current, then a replica opens at once, without waiting for the migration lock', async () => {
    const url = await server.createDatabase('current')
    const first = await PostgresConfigStore.open({ url, ...fast })
    await first.create(config('there'), author)
    await first.close()
    // Another session holds the lock every migrating replica takes, and keeps it.
    const holder = postgres(url, { max: 1, onnotice: () => {} })
    try {
      await holder`SELECT pg_advisory_lock(4242001001)`
      // The lock is held until the end of the test: an open that waited for it would never end
      // (the test's timeout reports it), so that it ends at all is the evidence, not how soon.
      const store = await PostgresConfigStore.open({ url, ...fast })
      try {
        expect((await store.get('there'))?.config).toEqual(config('there'))
        expect(await store.currentRevision()).toBe(1)
      } finally {
        await store.close()
      }
    } finally {
      await holder.end()
    }
  }, 60_000)

  it('when a store opens, then a second connection of its pool is open too, so the first probe does not wait for one', async () => {
    const url = await server.createDatabase('ahead')
    const name = new URL(url).pathname.slice(1)
    const store = await PostgresConfigStore.open({ url, ...fast })
    const admin = postgres(server.url(), { max: 1, onnotice: () => {} })
    try {
      const connections = async () =>
        Number(
          (
            await admin<{ n: string }[]>`
              SELECT count(*) AS n FROM pg_stat_activity WHERE datname = ${name} AND application_name = 'config-service'`
          )[0]?.n,
        )
      // The pool's two and the change feed's, without a single request yet.
      const deadline = performance.now() + 2000
      while ((await connections()) < 3 && performance.now() < deadline) await Bun.sleep(20)
      expect(await connections()).toBe(3)
    } finally {
      await admin.end()
      await store.close()
    }
  })

  it('when a database from before history is upgraded, then its events become entries and what was trimmed counts as dropped', async () => {
    const url = await server.createDatabase('upgrade')
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try {
      await migrate(
        sql,
        MIGRATIONS.filter((m) => m.version === 1),
      )
      // As the build before history left it with WATCH_HISTORY_SIZE=1: `old` created at 1, `a`
      // created at 2 and modified at 3; only event 3 is left, compacted_through is 2.
      const body = (dcname: string, team: string) => JSON.stringify({ dcname, metadata: { team } })
      await sql`INSERT INTO events (revision, type, dcname, body) VALUES (3, 'MODIFIED', 'a', ${body('a', 'z')}::text::json)`
      await sql`INSERT INTO configs (dcname, body, revision) VALUES ('old', ${body('old', 'o')}::text::json, 1), ('a', ${body('a', 'z')}::text::json, 3)`
      await sql`UPDATE store_state SET revision = 3, compacted_through = 2`
    } finally {
      await sql.end()
    }
    const store = await PostgresConfigStore.open({ url, ...fast })
    try {
      const entries = async (dcname: string) =>
        (await store.history(dcname, { limit: 10 })).entries.map((e) => [e.type, e.revision, e.actor])
      expect(await entries('old')).toEqual([['MODIFIED', 1, 'unknown']])
      expect(await store.getAt('old', 3)).toEqual({ config: config('old', { team: 'o' }), revision: 1 })
      expect(await entries('a')).toEqual([['MODIFIED', 3, 'unknown']])
      await expect(store.getAt('a', 2)).rejects.toBeInstanceOf(RevisionCompactedError)
      await expect(allChangesAfter(store, 1)).rejects.toBeInstanceOf(HistoryCompactedError)
      expect((await allChangesAfter(store, 2)).map((e) => e.revision)).toEqual([3])
      const next = await store.replace(config('a', { team: 'y' }), {}, author)
      expect(await entries('a')).toEqual([
        ['MODIFIED', next.stored.revision, 'test'],
        ['MODIFIED', 3, 'unknown'],
      ])
    } finally {
      await store.close()
    }
  }, 20_000)

  it('when a database of schema version 5 holding a schema is upgraded, then the schema gets its state as its oldest entry', async () => {
    const url = await server.createDatabase('schema-history-upgrade')
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try {
      await migrate(
        sql,
        MIGRATIONS.filter((m) => m.version <= 5),
      )
      await sql`INSERT INTO schemas (name, prefix, mode, source, revision) VALUES ('s', 's-', 'warn', '{}', 4)`
      await sql`UPDATE store_state SET revision = 4`
    } finally {
      await sql.end()
    }
    const store = await PostgresConfigStore.open({ url, ...fast })
    try {
      const { entries } = await store.schemas.history('s', { limit: 10 })
      expect(entries.map((e) => [e.revision, e.type, e.actor, e.requestId])).toEqual([
        [4, 'MODIFIED', 'unknown', undefined],
      ])
      const definition = { name: 's', prefix: 's-', mode: 'warn' as const, schema: {} }
      expect(await store.schemas.getAt('s', 4)).toEqual({ definition, revision: 4 })
      await expect(store.schemas.getAt('s', 3)).rejects.toBeInstanceOf(SchemaRevisionCompactedError)
    } finally {
      await store.close()
    }
  }, 20_000)

  it('when two handles write the same config concurrently with If-Match, then exactly one wins each round', async () => {
    const url = await server.createDatabase('race')
    const [a, b] = await Promise.all([
      PostgresConfigStore.open({ url, ...fast }),
      PostgresConfigStore.open({ url, ...fast }),
    ])
    try {
      const first = await a.create(config('contended', { n: 0 }), author)
      const results = await Promise.allSettled(
        [a, b, a, b].map((store, i) =>
          store.replace(config('contended', { n: i + 1 }), { ifMatch: first.revision }, author),
        ),
      )
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      const creators = await Promise.allSettled(
        [a, b].map((store) => store.replace(config('new-one'), { ifNoneMatch: '*' }, author)),
      )
      expect(creators.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  }, 20_000)

  it('when a write goes through one replica, then its history, past states and rollback are there through another', async () => {
    const url = await server.createDatabase('history')
    const [one, two] = await Promise.all([
      PostgresConfigStore.open({ url, ...fast }),
      PostgresConfigStore.open({ url, ...fast }),
    ])
    try {
      const v1 = await one.create(config('shared', { v: 1 }), { actor: 'one', requestId: 'r-1' })
      const v2 = await one.replace(config('shared', { v: 2 }), {}, { actor: 'one', requestId: 'r-2' })
      const entries = (await two.history('shared', { limit: 10 })).entries
      expect(entries.map((e) => [e.type, e.revision, e.actor, e.requestId])).toEqual([
        ['MODIFIED', v2.stored.revision, 'one', 'r-2'],
        ['ADDED', v1.revision, 'one', 'r-1'],
      ])
      expect(await two.getAt('shared', v1.revision)).toEqual({
        config: config('shared', { v: 1 }),
        revision: v1.revision,
      })
      const back = await two.rollback('shared', v1.revision, { ifMatch: v2.stored.revision }, author)
      expect(await one.get('shared')).toEqual(back.stored)
    } finally {
      await Promise.all([one.close(), two.close()])
    }
  }, 20_000)

  it('when replicas roll back and write one config concurrently with the same If-Match, then exactly one wins each round', async () => {
    const url = await server.createDatabase('rollback_race')
    const handles = await Promise.all(Array.from({ length: 3 }, () => PostgresConfigStore.open({ url, ...fast })))
    try {
      const first = await handles[0]?.create(config('contended', { n: 0 }), author)
      let current = first?.revision as number
      for (let round = 1; round <= 5; round++) {
        const attempts = handles.flatMap((handle, i) => [
          handle.rollback('contended', first?.revision as number, { ifMatch: current }, author),
          handle.replace(config('contended', { n: round, by: i }), { ifMatch: current }, author),
        ])
        const outcomes = await Promise.allSettled(attempts)
        const won = outcomes.filter((o) => o.status === 'fulfilled')
        expect(won).toHaveLength(1)
        for (const lost of outcomes.filter((o) => o.status === 'rejected')) {
          expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(PreconditionFailedError)
        }
        const stored = await handles[1]?.get('contended')
        expect(stored?.revision).toBeGreaterThan(current)
        current = stored?.revision as number
        // One write per round, and one history entry per write.
        expect((await handles[2]?.history('contended', { limit: 100 }))?.entries).toHaveLength(round + 1)
      }
    } finally {
      await Promise.all(handles.map((handle) => handle.close()))
    }
  }, 30_000)

  it('when another handle writes, then a subscriber here gets its changes in order, each once', async () => {
    const url = await server.createDatabase('feed')
    const [reader, writer] = await Promise.all([
      PostgresConfigStore.open({ url, ...fast }),
      PostgresConfigStore.open({ url, ...fast }),
    ])
    try {
      const seen: ChangeEvent[] = []
      reader.subscribe((event) => seen.push(event))
      const revisions: number[] = []
      await Promise.all(
        Array.from({ length: 5 }, async (_, worker) => {
          for (let i = 0; i < 20; i++)
            revisions.push((await writer.replace(config(`w-${worker}`, { i }), {}, author)).stored.revision)
        }),
      )
      await waitFor(() => seen.length >= 100, 10_000)
      await Bun.sleep(50)
      expect(seen.map((e) => e.revision)).toEqual([...revisions].sort((x, y) => x - y))
    } finally {
      await Promise.all([reader.close(), writer.close()])
    }
  }, 20_000)

  it('when an older replica wrote a MODIFIED event without its previous state, then it comes back without one', async () => {
    const url = await server.createDatabase('previous')
    const store = await PostgresConfigStore.open({ url, ...fast })
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const created = await store.create(config('a', { v: 1 }), author)
      // As a replica of the version before migration 2 writes it, during a rolling update.
      const [slot] = await sql<
        { revision: string }[]
      >`UPDATE store_state SET revision = revision + 1 RETURNING revision`
      const blind = Number(slot?.revision)
      await sql`INSERT INTO events (revision, type, dcname, body) VALUES (${blind}, 'MODIFIED', 'a', '{"dcname":"a","metadata":{"v":2}}')`
      await sql`UPDATE configs SET body = '{"dcname":"a","metadata":{"v":2}}', revision = ${blind} WHERE dcname = 'a'`
      const modified = await store.update('a', (c) => ({ ...c, metadata: { v: 3 } }), {}, author)
      const events = await allChangesAfter(store, created.revision)
      expect(events.map((e) => [e.revision, e.previous?.metadata])).toEqual([
        [blind, undefined],
        [modified.revision, { v: 2 }],
      ])
    } finally {
      await sql.end()
      await store.close()
    }
  }, 20_000)

  it('when a config is larger than a NOTIFY payload may be, then subscribers still get all of it', async () => {
    const url = await server.createDatabase('large')
    const store = await PostgresConfigStore.open({ url, ...fast })
    try {
      const seen: ChangeEvent[] = []
      store.subscribe((event) => seen.push(event))
      const big = config('big', { blob: 'x'.repeat(60_000) })
      await store.create(big, author)
      await waitFor(() => seen.length >= 1, 10_000)
      expect(seen[0]?.config).toEqual(big)
    } finally {
      await store.close()
    }
  }, 20_000)

  it('when the connections of a subscribing handle are killed mid-stream, then it reconnects and misses nothing', async () => {
    const url = await server.createDatabase('killed')
    const role = await server.createRole('reader')
    const reader = await PostgresConfigStore.open({ url: asRole(url, role), ...fast })
    const writer = await PostgresConfigStore.open({ url, ...fast })
    try {
      const seen: ChangeEvent[] = []
      reader.subscribe((event) => seen.push(event))
      const revisions: number[] = []
      for (let i = 0; i < 30; i++) {
        revisions.push((await writer.replace(config(`k-${i % 3}`, { i }), {}, author)).stored.revision)
        if (i % 10 === 5) await server.terminateSessions(role)
      }
      await waitFor(() => seen.length >= revisions.length, 10_000)
      await Bun.sleep(50)
      expect(seen.map((e) => e.revision)).toEqual(revisions)
    } finally {
      await Promise.all([reader.close(), writer.close()])
    }
  }, 20_000)

  it('when a handle was cut off while more than its history was written, then subscribers are dropped with HistoryCompactedError', async () => {
    const url = await server.createDatabase('behind')
    const role = await server.createRole('cutoff')
    const lagging = await PostgresConfigStore.open({ url: asRole(url, role), ...fast, historySize: 3 })
    const writer = await PostgresConfigStore.open({ url, ...fast, historySize: 3 })
    try {
      const seen: ChangeEvent[] = []
      let lost: unknown
      lagging.subscribe(
        (event) => seen.push(event),
        (error) => {
          lost = error
        },
      )
      const first = await writer.create(config('c-0'), author)
      await waitFor(() => seen.length === 1, 10_000)
      await server.lockOut(role, true)
      for (let i = 1; i <= 5; i++) await writer.create(config(`c-${i}`), author)
      await server.lockOut(role, false)
      await waitFor(() => lost !== undefined, 10_000)
      expect(lost).toBeInstanceOf(HistoryCompactedError)
      expect((lost as HistoryCompactedError).since).toBe(first.revision)
      expect(seen).toHaveLength(1)
      // The handle itself is fine: a new subscription gets what happens from now on.
      const after: ChangeEvent[] = []
      lagging.subscribe((event) => after.push(event))
      const next = await writer.create(config('c-next'), author)
      await waitFor(() => after.length >= 1, 10_000)
      expect(after.map((e) => e.revision)).toEqual([next.revision])
    } finally {
      await Promise.all([lagging.close(), writer.close()])
    }
  }, 20_000)

  it('when writes wait for the write lock longer than the statement timeout, then they fail with StoreUnavailableError', async () => {
    const url = await server.createDatabase('timeout')
    const store = await PostgresConfigStore.open({ url, ...fast, statementTimeoutMs: 300 })
    const blocker = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const stored = await store.create(config('slow', { v: 1 }), author)
      let release = () => {}
      const released = new Promise<void>((resolve) => {
        release = resolve
      })
      let locked = () => {}
      const lockTaken = new Promise<void>((resolve) => {
        locked = resolve
      })
      const holding = blocker.begin(async (tx) => {
        await tx`UPDATE store_state SET revision = revision`
        locked()
        await Promise.race([released, Bun.sleep(5000)])
      })
      await lockTaken
      const started = Date.now()
      // The second waits in this replica's write queue behind the first: that wait counts too.
      const outcomes = await Promise.allSettled([2, 3].map((v) => store.replace(config('slow', { v }), {}, author)))
      for (const outcome of outcomes) {
        expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(StoreUnavailableError)
      }
      expect(Date.now() - started).toBeLessThan(2000)
      release()
      await holding
      expect(await store.get('slow')).toEqual(stored)
    } finally {
      await blocker.end()
      await store.close()
    }
  }, 20_000)

  it('when a write waited in its replica queue longer than the statement timeout, then it fails without running', async () => {
    const url = await server.createDatabase('queue')
    const store = await PostgresConfigStore.open({ url, ...fast, statementTimeoutMs: 300 })
    try {
      await store.create(config('queued', { v: 1 }), author)
      // The first write holds the queue (not the database) for 600 ms: its change is slow.
      const slow = store.update(
        'queued',
        (current) => {
          const until = Date.now() + 600
          while (Date.now() < until) {}
          return { ...current, metadata: { v: 2 } }
        },
        {},
        author,
      )
      const queued = store.replace(config('queued', { v: 3 }), {}, author)
      await slow
      await expect(queued).rejects.toBeInstanceOf(StoreUnavailableError)
      expect((await store.get('queued'))?.config.metadata).toEqual({ v: 2 })
    } finally {
      await store.close()
    }
  }, 20_000)

  it('when DATABASE_* settings are given, then they reach the store settings, and a bad one is named', () => {
    const settings = loadSettings({
      DATABASE_URL: 'postgres://u@db/c',
      DATABASE_POOL_SIZE: '4',
      DATABASE_STATEMENT_TIMEOUT_MS: '0',
      DATABASE_CONNECT_TIMEOUT_MS: '1500',
      DATABASE_CONNECT_RETRIES: '3',
    })
    expect(settings.postgres).toEqual({ poolSize: 4, statementTimeoutMs: 0, connectTimeoutMs: 1500, connectRetries: 3 })
    expect(loadSettings({}).postgres).toEqual({
      poolSize: 10,
      statementTimeoutMs: 5000,
      connectTimeoutMs: 5000,
      connectRetries: 10,
    })
    expect(() => loadSettings({ DATABASE_POOL_SIZE: '0' })).toThrow(/DATABASE_POOL_SIZE/)
    expect(() => loadSettings({ DATABASE_CONNECT_RETRIES: 'many' })).toThrow(/DATABASE_CONNECT_RETRIES/)
  })
})
