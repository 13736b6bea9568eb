/** Liveness and readiness probes, on the real app over a real SQLite file. */
import { afterEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { createApp } from '../../src/app.ts'
import { healthRoutes, Readiness } from '../../src/http/health.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'

const stores: SqliteConfigStore[] = []
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => {})
})

function openStore(): SqliteConfigStore {
  const store = new SqliteConfigStore({ path: join(tempDir(), 'configs.db'), open: openBunSqlite })
  stores.push(store)
  return store
}

/** The real store, with its pings counted. */
function countingPings(store: SqliteConfigStore) {
  const counter = {
    pings: 0,
    ping: () => {
      counter.pings++
      return store.ping()
    },
  }
  return counter
}

const get = (app: { handle(request: Request): Promise<Response> }, path: string) =>
  app.handle(new Request(`http://localhost${path}`))

describe('/healthz', () => {
  it('when the process runs, then it answers 200 with status ok and is not cached', async () => {
    const response = await get(createApp({ store: openStore(), maxBodyBytes: 1024 }), '/healthz')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok' })
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('when the service is shutting down, then it still answers 200 (the process still serves)', async () => {
    const readiness = new Readiness()
    const app = createApp({ store: openStore(), maxBodyBytes: 1024, readiness })
    readiness.markShuttingDown()
    expect((await get(app, '/healthz')).status).toBe(200)
  })
})

describe('/readyz', () => {
  it('when the store answers its ping, then it answers 200', async () => {
    const response = await get(createApp({ store: openStore(), maxBodyBytes: 1024 }), '/readyz')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok' })
  })

  it('when the service is shutting down, then it answers 503 problem+json saying so, without asking the store', async () => {
    const store = countingPings(openStore())
    const readiness = new Readiness()
    const app = new Elysia().use(healthRoutes({ store, readiness }))
    readiness.markShuttingDown()
    const response = await get(app, '/readyz')
    expect(response.status).toBe(503)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(await response.json()).toEqual({
      type: 'urn:config-service:problem:not-ready',
      title: 'Service Unavailable',
      status: 503,
      detail: 'the service is shutting down',
    })
    expect(store.pings).toBe(0)
  })

  it('when the store cannot answer, then it answers 503 problem+json naming the store, and the cause is reported', async () => {
    const store = openStore()
    const reported: unknown[] = []
    const app = createApp({ store, maxBodyBytes: 1024, reportStoreDown: (error) => reported.push(error) })
    await store.close()
    const response = await get(app, '/readyz')
    expect(response.status).toBe(503)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    const body = (await response.json()) as { detail: string }
    expect(body.detail).toBe('the config store did not answer its ping')
    expect(reported).toHaveLength(1)
  })

  it('when the store comes back, then readiness follows once the cached failure is older than the max age', async () => {
    const store = openStore()
    let down = true
    const flaky = { ping: () => (down ? Promise.reject(new Error('connection refused')) : store.ping()) }
    const app = new Elysia().use(healthRoutes({ store: flaky, readiness: new Readiness(), pingMaxAgeMs: 50 }))
    expect((await get(app, '/readyz')).status).toBe(503)
    down = false
    expect((await get(app, '/readyz')).status).toBe(503)
    await Bun.sleep(60)
    expect((await get(app, '/readyz')).status).toBe(200)
  })

  it('when probed 50 times within a second, at once and in turn, then the store is pinged once', async () => {
    const store = countingPings(openStore())
    const app = new Elysia().use(healthRoutes({ store, readiness: new Readiness(), pingMaxAgeMs: 1000 }))
    const concurrent = await Promise.all(Array.from({ length: 25 }, () => get(app, '/readyz')))
    for (let i = 0; i < 25; i++) concurrent.push(await get(app, '/readyz'))
    expect(concurrent.map((r) => r.status)).toEqual(Array(50).fill(200))
    expect(store.pings).toBe(1)
  })

  it('when a ping hangs (a partitioned database), then it answers 503 once the ping timeout passes', async () => {
    // No SQLite call hangs without blocking the whole process, so this one ping never settles.
    const hung = { ping: () => new Promise<void>(() => {}) }
    const app = new Elysia().use(healthRoutes({ store: hung, readiness: new Readiness(), pingTimeoutMs: 100 }))
    const started = performance.now()
    const response = await get(app, '/readyz')
    const took = performance.now() - started
    expect(response.status).toBe(503)
    expect(((await response.json()) as { detail: string }).detail).toBe('the config store did not answer within 100 ms')
    // The ping never settles: that it answered at all is the timeout's doing, not how soon.
    expect(took).toBeGreaterThanOrEqual(95)
  })
})
