/**
 * The typed client against the app instance itself (Eden Treaty hands each request to
 * app.handle: no network), on a real SQLite store: every call, its errors as problems, and the
 * watch iterator with its 410 re-list.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { createApp } from '../../src/app.ts'
import {
  type ConfigClient,
  createClient,
  ProblemError,
  UnreachableError,
  type WatchItem,
} from '../../src/client/index.ts'
import { WatchHub } from '../../src/http/watch/watch-hub.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'

const config = (dcname: string, metadata: Record<string, unknown> = { team: 'payments' }) => ({ dcname, metadata })

describe('typed client on the app instance', () => {
  let store: SqliteConfigStore
  let client: ConfigClient

  beforeEach(() => {
    // A short watch history, so that an old `since` answers 410 after a few writes.
    store = new SqliteConfigStore({ path: join(tempDir(), 'configs.db'), open: openBunSqlite, historySize: 3 })
    const watch = new WatchHub(store, { heartbeatMs: 60_000, bufferEvents: 1000, bufferBytes: 4 << 20 })
    client = createClient({ app: createApp({ store, maxBodyBytes: 65536, watch }) })
  })
  afterEach(async () => {
    await store.close()
  })

  it('when configs are created, replaced, patched and deleted, then each call returns the stored state and its revision', async () => {
    const created = await client.create(config('dc-a'))
    expect(created.config).toEqual(config('dc-a'))
    expect(created.revision).toBeGreaterThan(0)

    const replaced = await client.replace(config('dc-a', { team: 'search' }), { ifMatch: created.revision })
    expect(replaced).toMatchObject({ created: false, config: config('dc-a', { team: 'search' }) })
    expect(replaced.revision).toBeGreaterThan(created.revision)

    const patched = await client.patch('dc-a', { metadata: { team: null, tier: 1 } }, { ifMatch: replaced.revision })
    expect(patched.config).toEqual(config('dc-a', { tier: 1 }))

    expect(await client.get('dc-a')).toEqual(patched)
    await client.delete('dc-a', { ifMatch: patched.revision })
    const missing = await client.get('dc-a').catch((error) => error)
    expect(missing).toBeInstanceOf(ProblemError)
    expect(missing.status).toBe(404)
  })

  it('when a write names a revision that has moved on, then it throws the 412 problem and nothing changes', async () => {
    const first = await client.create(config('dc-a'))
    await client.patch('dc-a', { metadata: { tier: 2 } })
    const refused = await client.replace(config('dc-a', { team: 'x' }), { ifMatch: first.revision }).catch((e) => e)
    expect(refused).toBeInstanceOf(ProblemError)
    expect(refused).toMatchObject({ status: 412, title: 'Precondition Failed' })
    expect(typeof refused.detail).toBe('string')
    const onlyCreate = await client.replace(config('dc-a'), { ifNoneMatch: '*' }).catch((e) => e)
    expect(onlyCreate.status).toBe(412)
    expect((await client.get('dc-a')).config.metadata).toEqual({ team: 'payments', tier: 2 })
  })

  it('when a body is invalid, then the problem carries its field errors', async () => {
    const refused = await client
      .create({ dcname: 'dc-a', metadata: { limits: { cpu: { value: 'lots' } } } })
      .catch((error) => error)
    expect(refused).toBeInstanceOf(ProblemError)
    expect(refused.status).toBe(400)
    expect(refused.errors.map((error: { pointer: string }) => error.pointer)).toEqual(['/metadata/limits/cpu/value'])
  })

  it('when the list is paged, then each page names the next cursor and listAll follows them all', async () => {
    for (const name of ['dc-a', 'dc-b', 'dc-c', 'dc-d', 'dc-e']) await client.create(config(name))
    await client.create(config('dc-f', { team: 'search' }))
    const first = await client.list({}, { limit: 2 })
    expect(first.configs.map((c) => c.dcname)).toEqual(['dc-a', 'dc-b'])
    expect(first.next).toBeString()
    const second = await client.list({}, { limit: 2, cursor: first.next })
    expect(second.configs.map((c) => c.dcname)).toEqual(['dc-c', 'dc-d'])
    const all = await client.listAll()
    expect(all.configs).toHaveLength(6)
    expect(all.revision).toBe(first.revision)
    const search = await client.search({ 'metadata.team': 'search' })
    expect(search.configs.map((c) => c.dcname)).toEqual(['dc-f'])
    const filtered = await client.listAll({ dcname: 'dc-b' })
    expect(filtered.configs).toEqual([config('dc-b')])
  })

  it('when metadata holds a date-like string, then it comes back as the same string', async () => {
    await client.create(config('dc-a', { since: '2024-01-02T03:04:05Z' }))
    expect((await client.get('dc-a')).config.metadata.since).toBe('2024-01-02T03:04:05Z')
  })

  it('when watching from a revision, then the iterator yields each later change once, in order', async () => {
    const { revision } = await client.list()
    await client.create(config('dc-a'))
    const items: WatchItem[] = []
    const seen = (async () => {
      for await (const item of client.watch({ since: revision })) {
        items.push(item)
        if (items.length === 3) break
      }
    })()
    await client.patch('dc-a', { metadata: { tier: 1 } })
    await client.delete('dc-a')
    await seen
    expect(items.map((item) => item.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED'])
    expect(items.map((item) => item.revision)).toEqual([revision + 1, revision + 2, revision + 3])
  })

  it('when the revision to resume from is older than the kept history, then the iterator re-lists (RELIST) and goes on', async () => {
    const { revision } = await client.list()
    for (const name of ['dc-a', 'dc-b', 'dc-c', 'dc-d', 'dc-e']) await client.create(config(name))
    const iterator = client.watch({ since: revision, filters: { 'metadata.team': 'payments' } })
    const relist = (await iterator.next()).value as WatchItem
    expect(relist.type).toBe('RELIST')
    if (relist.type !== 'RELIST') throw new Error('expected a RELIST')
    expect(relist.configs.map((c) => c.dcname)).toEqual(['dc-a', 'dc-b', 'dc-c', 'dc-d', 'dc-e'])
    expect(relist.revision).toBe(revision + 5)
    const next = iterator.next()
    await client.delete('dc-a')
    expect((await next).value).toMatchObject({ type: 'DELETED', revision: revision + 6, config: { dcname: 'dc-a' } })
    await iterator.return()
  })

  it('when a watch asks for something invalid, then the iterator throws its 400 problem instead of retrying', async () => {
    const iterator = client.watch({ filters: { limit: '3' } })
    const error = await iterator.next().catch((e) => e)
    expect(error).toBeInstanceOf(ProblemError)
    expect(error.status).toBe(400)
  })

  it('when a consumer reports, then the report comes back and is listed; a bad one throws its problem', async () => {
    const { revision } = await client.create(config('dc-a'))
    const reported = await client.consumers.report('dc-a', 'web-1', { revision, state: 'rejected', message: 'no' })
    expect(reported).toMatchObject({
      consumer: 'web-1',
      revision,
      state: 'rejected',
      status: 'rejected',
      message: 'no',
    })
    expect(await client.consumers.list('dc-a')).toEqual([reported])
    const error = await client.consumers
      .report('dc-a', 'web-1', { revision: revision + 99, state: 'applied' })
      .catch((e) => e)
    expect(error).toBeInstanceOf(ProblemError)
    expect(error.status).toBe(422)
  })
})

it('when nothing listens at the URL, then calls throw UnreachableError naming it', async () => {
  const server = Bun.serve({ port: 0, fetch: () => new Response('') })
  const url = `http://127.0.0.1:${server.port}`
  await server.stop(true)
  const error = await createClient({ url })
    .get('dc-a')
    .catch((e) => e)
  expect(error).toBeInstanceOf(UnreachableError)
  expect(error.message).toStartWith(`cannot reach ${url}: `)
})
