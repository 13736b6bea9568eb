/**
 * The SQLite store's filter index (the `leaves` table): searches read only the matching configs,
 * an existing database gets the index on first open, and it agrees with the filter semantics.
 */

import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { listSql } from '../../src/store/sqlite/filter-index.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }

describe('SQLite filter index', () => {
  let dir: string
  let path: string
  const opened: SqliteConfigStore[] = []
  const open = () => {
    const store = new SqliteConfigStore({ path, open: openBunSqlite })
    opened.push(store)
    return store
  }
  const names = async (store: SqliteConfigStore, key: string, value: string) =>
    (await store.list({ filters: [{ path: key.split('.'), value }], limit: 100 })).items.map((i) => i.config.dcname)

  beforeEach(() => {
    dir = tempDir('filter-index-')
    path = join(dir, 'configs.db')
  })
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('when a metadata filter is given, then the query looks it up in the index instead of reading every config', () => {
    open()
    const { sql, params } = listSql({ filters: [{ path: ['metadata', 'team'], value: 'a' }], limit: 10 })
    const db = new Database(path, { readonly: true })
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => (row as { detail: string }).detail)
    db.close()
    expect(plan).toEqual(['SEARCH l USING PRIMARY KEY (path=? AND value=?)', 'SEARCH c USING PRIMARY KEY (dcname=?)'])
  })

  it('when a database was written before the index existed, then the first open indexes its configs', async () => {
    const db = new Database(path, { create: true })
    db.run(
      'CREATE TABLE configs (dcname TEXT PRIMARY KEY, body TEXT NOT NULL, revision INTEGER NOT NULL) WITHOUT ROWID',
    )
    db.run(`INSERT INTO configs VALUES ('old-1', '{"dcname":"old-1","metadata":{"team":"a"}}', 1)`)
    db.run(`INSERT INTO configs VALUES ('old-2', '{"dcname":"old-2","metadata":{"team":"b"}}', 2)`)
    db.close()
    expect(await names(open(), 'metadata.team', 'a')).toEqual(['old-1'])
  })

  it('when a config is replaced or deleted, then its old leaves no longer match', async () => {
    const store = open()
    await store.create({ dcname: 'x', metadata: { team: 'a', deep: { flag: true } } }, author)
    await store.replace({ dcname: 'x', metadata: { team: 'b' } }, {}, author)
    expect(await names(store, 'metadata.team', 'a')).toEqual([])
    expect(await names(store, 'metadata.deep.flag', 'true')).toEqual([])
    expect(await names(store, 'metadata.team', 'b')).toEqual(['x'])
    await store.delete('x', {}, author)
    expect(await names(store, 'metadata.team', 'b')).toEqual([])
  })

  it('when a replace keeps some fields and changes others, then the kept ones still match and the old values do not', async () => {
    const store = open()
    await store.create({ dcname: 'x', metadata: { team: 'a', tier: 'gold' } }, author)
    await store.replace({ dcname: 'x', metadata: { team: 'a', tier: 'silver' } }, {}, author)
    await store.update('x', (current) => ({ ...current, metadata: { ...current.metadata, zone: 'z1' } }), {}, author)
    expect(await names(store, 'metadata.team', 'a')).toEqual(['x'])
    expect(await names(store, 'metadata.tier', 'gold')).toEqual([])
    expect(await names(store, 'metadata.tier', 'silver')).toEqual(['x'])
    expect(await names(store, 'metadata.zone', 'z1')).toEqual(['x'])
  })

  it('when a key holds a dot, then no filter path matches it as if it were nested', async () => {
    const store = open()
    await store.create({ dcname: 'dotted', metadata: { 'a.b': 'x' } }, author)
    await store.create({ dcname: 'nested', metadata: { a: { b: 'x' } } }, author)
    expect(await names(store, 'metadata.a.b', 'x')).toEqual(['nested'])
  })

  it('when filters are combined with dcname and a cursor, then all of them apply', async () => {
    const store = open()
    for (const [dcname, team, tier] of [
      ['a-1', 't', 'gold'],
      ['a-2', 't', 'silver'],
      ['a-3', 't', 'gold'],
      ['a-4', 'u', 'gold'],
    ] as const) {
      await store.create({ dcname, metadata: { team, tier } }, author)
    }
    const list = async (filters: [string, string][], after?: string) =>
      (
        await store.list({ filters: filters.map(([k, value]) => ({ path: k.split('.'), value })), limit: 10, after })
      ).items.map((i) => i.config.dcname)
    expect(
      await list([
        ['metadata.team', 't'],
        ['metadata.tier', 'gold'],
      ]),
    ).toEqual(['a-1', 'a-3'])
    expect(
      await list(
        [
          ['metadata.team', 't'],
          ['metadata.tier', 'gold'],
        ],
        'a-1',
      ),
    ).toEqual(['a-3'])
    expect(
      await list([
        ['metadata.tier', 'gold'],
        ['dcname', 'a-4'],
      ]),
    ).toEqual(['a-4'])
  })
})
