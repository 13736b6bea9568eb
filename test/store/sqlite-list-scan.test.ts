/**
 * The SQLite store's filtered lists: a scan in dcname order that keeps what the filters match,
 * with no index of leaves to keep up; pages, cursors and prefixes as every list has them.
 */

import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Filter } from '../../src/configs/config-store.ts'
import { matchesFilters } from '../../src/configs/filter-match.ts'
import type { Config } from '../../src/configs/model.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }
const filter = (key: string, value: string): Filter => ({ path: key.split('.'), value })

describe('SQLite filtered lists', () => {
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
    dir = tempDir('list-scan-')
    path = join(dir, 'configs.db')
  })
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('when a store is opened, then it keeps no filter index: writes touch only configs and history', async () => {
    const store = open()
    await store.create({ dcname: 'x', metadata: { team: 'a' } }, author)
    const db = new Database(path, { readonly: true })
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()
    db.close()
    expect((tables as { name: string }[]).map((t) => t.name)).not.toContain('leaves')
    expect(await names(store, 'metadata.team', 'a')).toEqual(['x'])
  })

  it('when matches are spread over more configs than one step of the scan reads, then every page agrees with the filters evaluated on every config', async () => {
    const store = open()
    const all: Config[] = []
    for (let i = 0; i < 700; i++) {
      const dcname = `${['a', 'b', 'c'][i % 3]}-${String(i).padStart(4, '0')}`
      // Sparse matches: gold on every 7th, team t on every 2nd; some configs have no metadata to match.
      const metadata = i % 11 === 0 ? {} : { team: i % 2 === 0 ? 't' : 'u', tier: i % 7 === 0 ? 'gold' : 'silver' }
      all.push({ dcname, metadata })
    }
    await Promise.all(all.map((config) => store.create(config, author)))
    const sorted = all.map((c) => c.dcname).sort()
    const byName = new Map(all.map((c) => [c.dcname, c]))
    const cases: { filters: Filter[]; prefixes?: string[]; limit: number }[] = [
      { filters: [filter('metadata.tier', 'gold')], limit: 7 },
      { filters: [filter('metadata.tier', 'gold'), filter('metadata.team', 't')], limit: 5 },
      { filters: [filter('metadata.tier', 'gold')], prefixes: ['b-', 'c-0'], limit: 4 },
      { filters: [filter('metadata.team', 'u')], prefixes: ['a-'], limit: 300 },
      { filters: [filter('metadata.tier', 'gold'), filter('dcname', 'c-0014')], limit: 1 },
      { filters: [filter('metadata.tier', 'none')], limit: 10 },
    ]
    for (const { filters, prefixes, limit } of cases) {
      const expected = sorted.filter(
        (name) =>
          matchesFilters(byName.get(name) as Config, filters) &&
          (prefixes === undefined || prefixes.some((p) => name.startsWith(p))),
      )
      // Page through with the cursor, as a client does, and check each page's `more`.
      const got: string[] = []
      let after: string | undefined
      for (;;) {
        const page = await store.list({ filters, prefixes, limit, after })
        got.push(...page.items.map((i) => i.config.dcname))
        expect(page.items.length).toBeLessThanOrEqual(limit)
        expect(page.more).toBe(got.length < expected.length)
        if (!page.more) break
        expect(page.items).toHaveLength(limit)
        after = got[got.length - 1]
      }
      expect(got).toEqual(expected)
    }
  })

  it('when a filter value holds characters JSON escapes, then the configs holding it match and the others do not', async () => {
    const store = open()
    const values = ['say "hi"', 'back\\slash', 'line\nbreak', 'tab\t', 'ünïcødé 🙂', '\u2028', '\u0001', '']
    for (const [i, value] of values.entries())
      await store.create({ dcname: `v-${i}`, metadata: { text: value } }, author)
    await store.create({ dcname: 'w-number', metadata: { text: 5, other: 'say "hi"' } }, author)
    for (const [i, value] of values.entries()) expect(await names(store, 'metadata.text', value)).toEqual([`v-${i}`])
    expect(await names(store, 'metadata.text', '5')).toEqual(['w-number'])
    expect(await names(store, 'metadata.text', 'say')).toEqual([])
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
