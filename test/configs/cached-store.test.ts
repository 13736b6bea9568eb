/**
 * The read model in front of real stores: a SQLite file (the model updated in the commit) and a
 * throwaway PostgreSQL server with a second handle standing for another replica (reads wait
 * for the database's revision, each until its own wait is over; a feed that stalls makes reads
 * fail with 503, never stale; one lost while reads wait hands them to the store).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import { createApp } from '../../src/app.ts'
import type { ConfigStore, ListQuery, WriteMeta } from '../../src/configs/config-store.ts'
import { CachedConfigStore, ReadModelBehindError } from '../../src/configs/read-model/cached-store.ts'
import { MAX_QUERIES_OUT } from '../../src/configs/read-model/revision-rounds.ts'
import { PostgresConfigStore } from '../../src/store/postgres/postgres-store.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { config } from '../support/configs.ts'
import { type SharedPostgres, sharedPostgres } from '../support/postgres.ts'
import { tempDir } from '../support/server.ts'
import { waitFor } from '../support/wait.ts'

const meta: WriteMeta = { actor: 'test', requestId: '' }
const everything: ListQuery = { filters: [], limit: 10_000 }
const byTeam = (team: string): ListQuery => ({ filters: [{ path: ['metadata', 'team'], value: team }], limit: 10_000 })

/** What a page says, in a form both the backend and the model give. */
async function answers(store: ConfigStore, query: ListQuery) {
  const page = await store.list(query)
  return { items: page.items.map((item) => ({ config: item.config, revision: item.revision })), more: page.more }
}

describe('read model on SQLite', () => {
  const dir = tempDir('cache-')
  const path = join(dir, 'configs.db')
  let backend: SqliteConfigStore
  let cache: CachedConfigStore
  beforeAll(async () => {
    backend = new SqliteConfigStore({ path, open: openBunSqlite })
    for (let i = 0; i < 30; i++) await backend.create(config(`dc-${i}`, { team: `team-${i % 3}`, i }), meta)
    cache = new CachedConfigStore(backend, { consistency: 'synchronous', waitTimeoutMs: 1000 })
    await cache.start()
  })
  afterAll(async () => {
    await cache.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('when it starts on a filled store, then get, list and search answer what the store answers, with its JSON text', async () => {
    expect(await answers(cache, everything)).toEqual(await answers(backend, everything))
    expect(await answers(cache, byTeam('team-1'))).toEqual(await answers(backend, byTeam('team-1')))
    const stored = await cache.get('dc-7')
    expect({ config: stored?.config, revision: stored?.revision }).toEqual((await backend.get('dc-7')) as never)
    expect(stored?.json).toBe(JSON.stringify(stored?.config))
    expect((await cache.list(everything)).revision).toBe(await backend.currentRevision())
  })

  it('when the model is not loaded yet, then the store answers reads and writes go through, and the load picks them up', async () => {
    const loading = new CachedConfigStore(backend, { consistency: 'synchronous', waitTimeoutMs: 1000 })
    const written = await loading.replace(config('dc-early', { team: 'team-7' }), {}, meta)
    expect((await loading.get('dc-early'))?.revision).toBe(written.stored.revision)
    expect(await answers(loading, byTeam('team-7'))).toEqual(await answers(backend, byTeam('team-7')))
    await loading.start()
    expect((await loading.get('dc-early'))?.json).toBe(JSON.stringify(written.stored.config))
    await loading.delete('dc-early', {}, meta)
    expect(await loading.get('dc-early')).toBeUndefined()
  })

  it('when a page is listed again before any write, then it answers the same bytes; after a write, new ones', async () => {
    const decode = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes))
    const first = await cache.list(byTeam('team-2'))
    expect((await cache.list(byTeam('team-2'))).body).toBe(first.body as Uint8Array<ArrayBuffer>)
    expect(decode(first.body)).toEqual((await backend.list(byTeam('team-2'))).items.map((item) => item.config))
    await cache.replace(config('dc-2', { team: 'team-2', v: 2 }), {}, meta)
    const after = await cache.list(byTeam('team-2'))
    expect(after.body).not.toBe(first.body as Uint8Array<ArrayBuffer>)
    expect(decode(after.body)).toEqual((await backend.list(byTeam('team-2'))).items.map((item) => item.config))
  })

  it('when lists and searches are scoped to prefixes, then every page is the one the store answers, paging included', async () => {
    // Neighbours of the ranges, as in the store contract: '.' sorts after '-', '_' is no wildcard.
    for (const dcname of ['pay-1', 'pay-2', 'pay-3', 'pay.x', 'pay', 'pa_y-1', 'payments-9', 'Pay-1', 'dc-1x']) {
      await cache.replace(config(dcname, { team: dcname.length % 2 === 0 ? 'team-1' : 'team-2' }), {}, meta)
    }
    const scopes = [[], ['pay-'], ['pay'], ['pay', 'pay-'], ['pay-', 'dc-1', 'Pay'], ['pa_'], ['dc-2', 'zzz'], ['']]
    for (const prefixes of scopes) {
      for (const filters of [[], byTeam('team-1').filters, [{ path: ['dcname'], value: 'pay-2' }]]) {
        for (const limit of [1, 2, 3, 100]) {
          // Every page in turn, each continuing after the last name of the one before.
          let after: string | undefined
          for (let pages = 0; pages < 50; pages++) {
            const query: ListQuery = { filters, limit, after, prefixes }
            const expected = await answers(backend, query)
            expect({ prefixes, filters, limit, after, page: await answers(cache, query) }).toEqual({
              prefixes,
              filters,
              limit,
              after,
              page: expected,
            })
            after = expected.items.at(-1)?.config.dcname
            if (!expected.more) break
          }
        }
      }
    }
    // A scoped page held for polling is never handed to another scope.
    const payOnly = await cache.list({ filters: [], limit: 100, prefixes: ['pay-'] })
    const dcOnly = await cache.list({ filters: [], limit: 100, prefixes: ['dc-'] })
    expect(new TextDecoder().decode(dcOnly.body)).not.toContain('pay-')
    expect(new TextDecoder().decode(payOnly.body)).not.toContain('"dc-')
  })

  it('when a config is rolled back, then reads see the rollback at once, and history and past states come from the store', async () => {
    const first = await cache.replace(config('rolled', { v: 1 }), {}, meta)
    await cache.replace(config('rolled', { v: 2 }), {}, meta)
    const rolled = await cache.rollback('rolled', first.stored.revision, {}, meta)
    expect((await cache.get('rolled'))?.json).toBe(JSON.stringify(config('rolled', { v: 1 })))
    expect((await cache.get('rolled'))?.revision).toBe(rolled.stored.revision)
    expect(await cache.getAt('rolled', first.stored.revision)).toEqual(
      (await backend.getAt('rolled', first.stored.revision)) as never,
    )
    expect(await cache.history('rolled', { limit: 10 })).toEqual(await backend.history('rolled', { limit: 10 }))
    expect(await cache.countHistory()).toBe(await backend.countHistory())
  })

  it('when a write is acknowledged, then the next read already sees it, without waiting for anything', async () => {
    const created = await cache.create(config('dc-new', { team: 'team-9' }), meta)
    // No await before the read: the model took the write in its commit.
    const read = cache.get('dc-new')
    expect((await read)?.revision).toBe(created.revision)
    await cache.update('dc-new', (c) => ({ ...c, metadata: { team: 'team-8' } }), {}, meta)
    expect((await cache.list(byTeam('team-9'))).items).toEqual([])
    expect((await cache.list(byTeam('team-8'))).items.map((item) => item.config.dcname)).toEqual(['dc-new'])
    await cache.replace(config('dc-0', { team: 'team-8' }), {}, meta)
    await cache.delete('dc-1', {}, meta)
    expect(await cache.get('dc-1')).toBeUndefined()
    expect(await answers(cache, byTeam('team-8'))).toEqual(await answers(backend, byTeam('team-8')))
    expect(await answers(cache, everything)).toEqual(await answers(backend, everything))
    expect((await cache.list(everything)).revision).toBe(await backend.currentRevision())
  })
})

describe('read model on PostgreSQL, written through another replica', () => {
  let server: SharedPostgres
  let url: string
  let other: PostgresConfigStore
  let backend: PostgresConfigStore
  let cache: CachedConfigStore
  let revisionQueries = 0
  /** Revision queries sent and not yet answered. */
  let queriesOut = 0
  const waits: number[] = []

  beforeAll(async () => {
    server = await sharedPostgres()
    url = await server.createDatabase('cache')
    other = await PostgresConfigStore.open({ url, connectRetries: 0 })
    for (let i = 0; i < 20; i++) await other.create(config(`dc-${i}`, { team: `team-${i % 2}` }), meta)
    // The feed retries a lost LISTEN only after a minute: a stalled feed stays stalled in a test.
    backend = await PostgresConfigStore.open({ url, connectRetries: 0, feedRetryMs: 60_000 })
    // Counts the revision queries the model sends (the real store still answers them).
    const counted = Object.create(backend) as PostgresConfigStore
    counted.currentRevision = () => {
      revisionQueries++
      queriesOut++
      return backend.currentRevision().finally(() => {
        queriesOut--
      })
    }
    cache = new CachedConfigStore(counted, {
      consistency: 'revision',
      waitTimeoutMs: 400,
      onWait: (seconds) => waits.push(seconds),
    })
    await cache.start()
  }, 60_000)
  afterAll(async () => {
    await cache?.close()
    await other?.close()
  }, 30_000)

  it('when another replica writes, then a read that starts after its acknowledgement sees it at once', async () => {
    for (let i = 0; i < 20; i++) {
      const written = await other.replace(config(`seen-${i % 4}`, { round: i, team: 'team-0' }), {}, meta)
      const read = await cache.get(`seen-${i % 4}`)
      expect({ config: read?.config, revision: read?.revision }).toEqual(written.stored)
      expect((await cache.list(byTeam('team-0'))).revision).toBeGreaterThanOrEqual(written.stored.revision)
    }
    await other.delete('seen-0', {}, meta)
    expect(await cache.get('seen-0')).toBeUndefined()
    expect(await answers(cache, everything)).toEqual(await answers(other, everything))
    expect(await answers(cache, byTeam('team-0'))).toEqual(await answers(other, byTeam('team-0')))
    expect(waits.length).toBeGreaterThan(0)
  })

  it('when many reads arrive together, then they share one revision query (or two, when one was already out)', async () => {
    revisionQueries = 0
    const reads = await Promise.all(Array.from({ length: 50 }, (_, i) => cache.get(`dc-${i % 20}`)))
    expect(reads.every((read) => read !== undefined)).toBe(true)
    expect(revisionQueries).toBeLessThanOrEqual(2)
  })

  it('when reads share a revision query, then each is observed in the wait histogram, from its own arrival', async () => {
    waits.length = 0
    const first = cache.get('dc-1')
    // Joins the first read's round (the same turn of the event loop): it waits less than the first.
    await Promise.resolve()
    const later = await Promise.all([cache.get('dc-2'), cache.list(byTeam('team-0'))])
    await first
    expect(later[0]?.config.dcname).toBe('dc-2')
    expect(later[1].items.length).toBeGreaterThan(0)
    expect(waits.length).toBe(3)
    expect(waits.every((seconds) => seconds > 0 && seconds < 0.4)).toBe(true)
  })

  /** Runs `during` while every revision query waits for a lock (each read then fails after its wait). */
  async function withRevisionQueriesHeld(during: () => Promise<void>): Promise<void> {
    const admin = postgres(url, { max: 1, onnotice: () => {} })
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let locked: () => void = () => {}
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve
    })
    const holder = admin.begin(async (tx) => {
      await tx`LOCK TABLE store_state IN ACCESS EXCLUSIVE MODE`
      locked()
      await held
    })
    try {
      await lockTaken
      await during()
    } finally {
      release()
      await holder
      await admin.end()
    }
  }
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

  it('when a read arrives while an earlier revision query is out, then its own query is sent as its turn ends, not after the earlier one answers', async () => {
    const reads: Promise<unknown>[] = []
    await withRevisionQueriesHeld(async () => {
      revisionQueries = 0
      reads.push(cache.get('dc-1').catch(() => {}))
      await waitFor(() => queriesOut === 1, 5000, "the first read's revision query")
      reads.push(cache.get('dc-2').catch(() => {}))
      await waitFor(
        () => queriesOut === 2,
        5000,
        () => `a second query out beside the first (${queriesOut} out)`,
      )
    })
    await Promise.all(reads)
    expect((await cache.get('dc-3'))?.config.dcname).toBe('dc-3')
  })

  it('when the revision query hangs while reads keep arriving, then at most MAX_QUERIES_OUT queries are out, the later reads share one more', async () => {
    const reads: Promise<unknown>[] = []
    await withRevisionQueriesHeld(async () => {
      revisionQueries = 0
      for (let turn = 0; turn < 3 * MAX_QUERIES_OUT; turn++) {
        reads.push(cache.get(`dc-${turn % 20}`).catch(() => {}))
        await nextTurn()
      }
      expect(revisionQueries).toBe(MAX_QUERIES_OUT)
      expect(queriesOut).toBe(MAX_QUERIES_OUT)
    })
    // Once the lock is gone, the held queries answer and the reads that waited behind them send theirs.
    await waitFor(
      () => revisionQueries === MAX_QUERIES_OUT + 1,
      5000,
      () => `${revisionQueries} queries sent`,
    )
    await Promise.all(reads)
    expect(revisionQueries).toBe(MAX_QUERIES_OUT + 1)
  })

  it('when the revision query hangs, then every read fails with ReadModelBehindError once its own wait is over, not before', async () => {
    const admin = postgres(url, { max: 1, onnotice: () => {} })
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let locked: () => void = () => {}
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve
    })
    // A transaction holding the table's strongest lock: the revision query waits for it.
    const holder = admin.begin(async (tx) => {
      await tx`LOCK TABLE store_state IN ACCESS EXCLUSIVE MODE`
      locked()
      await held
    })
    try {
      await lockTaken
      // Timed from before the read is made: its wait starts inside the call, and a busy machine
      // can spend milliseconds there before the call returns.
      const failedAfter = async (read: () => Promise<unknown>) => {
        const started = performance.now()
        const failure = await read().catch((error: unknown) => error)
        return { failure, ms: performance.now() - started }
      }
      const early = failedAfter(() => cache.get('dc-1'))
      await Bun.sleep(150)
      // Queued behind the hung query, in a round whose timer was armed for a read before them.
      const late = [failedAfter(() => cache.get('dc-2')), failedAfter(() => cache.list(everything))]
      await Bun.sleep(20)
      const latest = failedAfter(() => cache.get('dc-3'))
      for (const { failure, ms } of await Promise.all([early, ...late, latest])) {
        expect(failure).toBeInstanceOf(ReadModelBehindError)
        expect(ms).toBeGreaterThanOrEqual(390)
        expect(ms).toBeLessThan(1000)
      }
    } finally {
      release()
      await holder
      await admin.end()
    }
    // The hung query answers once the lock is gone, and reads answer again.
    expect((await cache.get('dc-1'))?.config.dcname).toBe('dc-1')
  })

  it('when the change feed stalls, then a read fails with ReadModelBehindError (503 with Retry-After) after the wait, never stale, and recovers', async () => {
    const admin = postgres(url, { max: 1, onnotice: () => {} })
    try {
      // This replica's LISTEN connection goes away: it hears of no other replica's write.
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'`
      await Bun.sleep(100)
      const written = await other.replace(config('stalled', { v: 1 }), {}, meta)
      const started = performance.now()
      const failure = await cache.get('stalled').catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(ReadModelBehindError)
      expect(performance.now() - started).toBeGreaterThanOrEqual(390)
      expect((failure as Error).message).toContain(`not yet at the store's ${written.stored.revision}`)

      const response = await createApp({ store: cache, maxBodyBytes: 65536 }).handle(
        new Request('http://localhost/configs/stalled'),
      )
      expect(response.status).toBe(503)
      expect(response.headers.get('content-type')).toStartWith('application/problem+json')
      expect(response.headers.get('retry-after')).toBe('1')
      expect(((await response.json()) as { type: string }).type).toContain('read-model-behind')
      expect(cache.lag()).toBeGreaterThan(0)

      // A write through this replica wakes its feed, which reads what it missed from the table.
      await cache.replace(config('own', {}), {}, meta)
      const read = await cache.get('stalled')
      expect({ config: read?.config, revision: read?.revision }).toEqual(written.stored)
      expect(cache.lag()).toBe(0)
    } finally {
      await admin.end()
    }
  })
})

describe('read model on PostgreSQL, loaded again while reads wait', () => {
  let server: SharedPostgres
  let url: string
  let other: PostgresConfigStore
  let cache: CachedConfigStore
  const reloads: Error[] = []

  beforeAll(async () => {
    server = await sharedPostgres()
    url = await server.createDatabase('reload')
    other = await PostgresConfigStore.open({ url, connectRetries: 0 })
    await other.create(config('k', { v: 0 }), meta)
    // A history of 3 writes: a feed that misses more cannot catch up, and the model is loaded again.
    const backend = await PostgresConfigStore.open({ url, connectRetries: 0, feedRetryMs: 60_000, historySize: 3 })
    cache = new CachedConfigStore(backend, {
      consistency: 'revision',
      // Out of the test's reach: a read answered at all was answered before its wait was over.
      waitTimeoutMs: 600_000,
      onReload: (error) => reloads.push(error),
    })
    await cache.start()
  }, 60_000)
  afterAll(async () => {
    await cache?.close()
    await other?.close()
  }, 30_000)

  it('when the feed is lost while reads wait for it, then the store answers them, with the newest writes, before their wait is over', async () => {
    const admin = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const database = new URL(url).pathname.slice(1)
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${database} AND query LIKE 'LISTEN%'`
      await Bun.sleep(100)
      let written = 0
      for (let v = 1; v <= 5; v++) written = (await other.replace(config('k', { v }), {}, meta)).stored.revision
      const getting = cache.get('k')
      const listing = cache.list(everything)
      await Bun.sleep(100)
      // This replica's own write wakes its feed, which finds the history it missed dropped.
      await cache.replace(config('own'), {}, meta)
      const [one, page] = [await getting, await listing]
      expect({ config: one?.config, revision: one?.revision }).toEqual({
        config: config('k', { v: 5 }),
        revision: written,
      })
      expect(page.items.map((item) => item.config)).toContainEqual(config('k', { v: 5 }))
      expect(reloads.length).toBeGreaterThan(0)
    } finally {
      await admin.end()
    }
  })
})
