/**
 * Reads of the SQLite store share one read transaction per turn of the event loop (a WAL read
 * lock costs more than the read). That must never hide an acknowledged write, even from another
 * handle on the same file in this process that shares its snapshot group.
 */
import { afterEach, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { SnapshotGroup } from '../../src/store/sqlite/read-snapshot.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }

const dir = tempDir('read-snapshot-')
const path = join(dir, 'configs.db')
const stores: SqliteConfigStore[] = []
const snapshots = new SnapshotGroup()
const open = () => {
  const store = new SqliteConfigStore({ path, open: openBunSqlite, snapshots })
  stores.push(store)
  return store
}
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
  rmSync(dir, { recursive: true, force: true })
})

it('when a write is acknowledged, then a read on another handle in the same turn sees it', async () => {
  const writer = open()
  const reader = open()
  const creating = writer.create({ dcname: 'x', metadata: {} }, author)
  // The reader's snapshot is taken now, before the write commits later in this same turn.
  expect(await reader.get('x')).toBeUndefined()
  const created = await creating
  expect(await reader.get('x')).toEqual(created)
})

it('when a write commits on close, then a read on another handle in the same turn sees it', async () => {
  const writer = open()
  const reader = open()
  const creating = writer.create({ dcname: 'z', metadata: {} }, author)
  expect(await reader.get('z')).toBeUndefined()
  // close() commits what is queued at once: the reader's snapshot of this turn is still open.
  await writer.close()
  const created = await creating
  expect(await reader.get('z')).toEqual(created)
})

it('when a handle writes, then its own reads in the same turn see the write', async () => {
  const store = open()
  expect(await store.count()).toBe(0)
  await store.create({ dcname: 'y', metadata: {} }, author)
  expect(await store.count()).toBe(1)
  expect((await store.list({ filters: [], limit: 10 })).items.map((i) => i.config.dcname)).toEqual(['y'])
})
