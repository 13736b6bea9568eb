import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { SqliteCorruptError } from '../../src/store/sqlite/integrity.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { damagedStoreFile } from '../support/damaged-sqlite.ts'
import { tempDir } from '../support/server.ts'
import { allChangesAfter } from './changes.ts'
import { describeConfigStoreContract, type StoreFixture } from './contract.ts'
import { describeHistoryContract } from './history-contract.ts'
import { describeSchemaContract } from './schema-contract.ts'
import { describeSchemaHistoryContract } from './schema-history-contract.ts'

const fixture = async (): Promise<StoreFixture> => {
  const dir = tempDir('store-')
  const path = join(dir, 'nested', 'configs.db')
  return {
    open: async (options) => new SqliteConfigStore({ path, open: openBunSqlite, ...options }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

describeConfigStoreContract('sqlite (file)', fixture)
describeHistoryContract('sqlite (file)', fixture)
describeSchemaContract('sqlite (file)', fixture)
describeSchemaHistoryContract('sqlite (file)', fixture)

describe('SQLite store on a damaged file', () => {
  it('when a page of the file is overwritten, then opening it fails with SqliteCorruptError naming the finding', async () => {
    const path = await damagedStoreFile()
    const refused = (() => {
      try {
        new SqliteConfigStore({ path, open: openBunSqlite })
      } catch (error) {
        return error
      }
    })()
    expect(refused).toBeInstanceOf(SqliteCorruptError)
    expect((refused as Error).message).toMatch(/^the file is damaged \(PRAGMA quick_check: Tree \d+ page \d+: /)
  })
})

describe('SQLite store made by an older version', () => {
  it('when its history has MODIFIED events without their previous state, then they come back without one, and new ones keep it', async () => {
    const dir = tempDir('store-')
    const path = join(dir, 'configs.db')
    // The tables as the version before previous states were kept made them.
    const old = new Database(path)
    old.exec(
      `CREATE TABLE configs (dcname TEXT PRIMARY KEY, body TEXT NOT NULL, revision INTEGER NOT NULL) WITHOUT ROWID`,
    )
    old.exec(`CREATE TABLE events (
      revision INTEGER PRIMARY KEY AUTOINCREMENT,
      type TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
      dcname TEXT NOT NULL,
      body TEXT NOT NULL)`)
    old.exec(`INSERT INTO events (type, dcname, body) VALUES ('ADDED', 'a', '{"dcname":"a","metadata":{"v":1}}')`)
    old.exec(`INSERT INTO events (type, dcname, body) VALUES ('MODIFIED', 'a', '{"dcname":"a","metadata":{"v":2}}')`)
    old.exec(`INSERT INTO configs VALUES ('a', '{"dcname":"a","metadata":{"v":2}}', 2)`)
    old.close()

    const store = new SqliteConfigStore({ path, open: openBunSqlite })
    try {
      const modified = await store.update(
        'a',
        (c) => ({ ...c, metadata: { v: 3 } }),
        {},
        { actor: 'test', requestId: '' },
      )
      const events = await allChangesAfter(store, 0)
      expect(events.map((e) => [e.type, e.revision, e.config.metadata, e.previous?.metadata])).toEqual([
        ['ADDED', 1, { v: 1 }, undefined],
        ['MODIFIED', 2, { v: 2 }, undefined],
        ['MODIFIED', modified.revision, { v: 3 }, { v: 2 }],
      ])
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
