import { describe, expect, it } from 'bun:test'
import type { ConfigStore } from '../../src/configs/config-store.ts'
import { PORT_MEMBERS, passOn } from '../../src/configs/pass-on.ts'
import { CachedConfigStore } from '../../src/configs/read-model/cached-store.ts'
import { instrumentStore } from '../../src/observability/instrumented-store.ts'
import { createLogger } from '../../src/observability/logger.ts'
import { createMetrics } from '../../src/observability/metrics.ts'
import { createTracing } from '../../src/observability/tracing.ts'
import { loadSettings } from '../../src/settings.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { config } from '../support/configs.ts'

const author = { actor: 'test', requestId: 'test-request' }
const everyMember = Object.values(PORT_MEMBERS).flat()

describe('passOn', () => {
  it('when a member is passed on, then it runs on the store it came from', () => {
    const store = {
      revision: 4,
      current() {
        return this.revision
      },
    }
    const { current } = passOn(store, ['current'])
    expect(current()).toBe(4)
  })
})

describe('the store decorators', () => {
  const logger = createLogger('error', { write() {}, flush: (done?: () => void) => done?.() })
  const decorators: [string, (store: ConfigStore) => Promise<ConfigStore>][] = [
    [
      'CachedConfigStore',
      async (store) => new CachedConfigStore(store, { consistency: 'synchronous', waitTimeoutMs: 1000 }),
    ],
    [
      'instrumentStore',
      async (store) =>
        instrumentStore(store, {
          metrics: createMetrics({ configs: () => store.count() }),
          tracing: await createTracing(loadSettings({}).tracing, logger),
          logger,
        }),
    ],
  ]

  it.each(decorators)('when %s wraps a store, then every member of every port answers through it', async (_, wrap) => {
    const backend = new SqliteConfigStore({ path: ':memory:', open: openBunSqlite })
    const store = await wrap(backend)
    for (const member of everyMember) expect(typeof store[member]).toBe('function')
    expect([store.backend, store.schemas]).toEqual([backend.backend, backend.schemas])
    const created = await store.create(config('dc-pass'), author)
    expect((await store.history('dc-pass', { limit: 10 })).entries.map((entry) => entry.revision)).toEqual([
      created.revision,
    ])
    expect(await store.currentRevision()).toBe(created.revision)
    expect(await store.count()).toBe(1)
    await store.close()
  })
})
