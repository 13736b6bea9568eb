import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Filter } from '../../src/configs/config-store.ts'
import { matchesFilter, matchesFilters } from '../../src/configs/filter-match.ts'
import type { Config } from '../../src/configs/model.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'

/** Who the writes of this file are recorded as. */
const author = { actor: 'test', requestId: 'test-request' }

const filter = (key: string, value: string): Filter => ({ path: key.split('.'), value })
const config: Config = {
  dcname: 'dc-1',
  metadata: {
    monitoring: { enabled: true },
    flag: 'true',
    count: 5,
    ratio: 0.25,
    text: '5',
    nothing: null,
    limits: { cpu: { value: '500m' } },
    list: ['a', 'b'],
    'dash-key': 'x',
  },
}

describe('matchesFilter', () => {
  it('when a boolean leaf is compared with "true", then both true and "true" match', () => {
    expect(matchesFilter(config, filter('metadata.monitoring.enabled', 'true'))).toBe(true)
    expect(matchesFilter(config, filter('metadata.flag', 'true'))).toBe(true)
    expect(matchesFilter(config, filter('metadata.monitoring.enabled', 'false'))).toBe(false)
  })

  it('when a number or null leaf is compared, then its JSON text must equal the value', () => {
    expect(matchesFilter(config, filter('metadata.count', '5'))).toBe(true)
    expect(matchesFilter(config, filter('metadata.count', '5.0'))).toBe(false)
    expect(matchesFilter(config, filter('metadata.ratio', '0.25'))).toBe(true)
    expect(matchesFilter(config, filter('metadata.nothing', 'null'))).toBe(true)
  })

  it('when a string leaf is compared, then its content must equal the value, not its JSON text', () => {
    expect(matchesFilter(config, filter('metadata.text', '5'))).toBe(true)
    expect(matchesFilter(config, filter('metadata.text', '"5"'))).toBe(false)
    expect(matchesFilter(config, filter('metadata.limits.cpu.value', '500m'))).toBe(true)
  })

  it('when the path names an object, an array, an array element, a missing key or a prototype member, then nothing matches', () => {
    expect(matchesFilter(config, filter('metadata.monitoring', '{"enabled":true}'))).toBe(false)
    expect(matchesFilter(config, filter('metadata.list', '["a","b"]'))).toBe(false)
    expect(matchesFilter(config, filter('metadata.list.0', 'a'))).toBe(false)
    expect(matchesFilter(config, filter('metadata.missing', 'null'))).toBe(false)
    expect(matchesFilter(config, filter('metadata.constructor', 'x'))).toBe(false)
    expect(matchesFilter(config, filter('metadata.count.toString', 'x'))).toBe(false)
  })

  it('when filtering on dcname, then the name must be equal', () => {
    expect(matchesFilter(config, { path: ['dcname'], value: 'dc-1' })).toBe(true)
    expect(matchesFilter(config, { path: ['dcname'], value: 'dc-2' })).toBe(false)
  })

  it('when several filters are given, then all must match, and none matches everything', () => {
    expect(matchesFilters(config, [filter('metadata.count', '5'), filter('metadata.flag', 'true')])).toBe(true)
    expect(matchesFilters(config, [filter('metadata.count', '5'), filter('metadata.flag', 'false')])).toBe(false)
    expect(matchesFilters(config, [])).toBe(true)
  })
})

describe('matchesFilters agrees with the SQLite store', () => {
  let dir: string
  let store: SqliteConfigStore
  const configs: Config[] = [
    { dcname: 'a', metadata: { v: true, n: 1, s: 'true', deep: { x: { y: 'z' } } } },
    { dcname: 'b', metadata: { v: 'true', n: '1', s: true, deep: { x: 'z' } } },
    { dcname: 'c', metadata: { v: false, n: 1.5, s: null, deep: { x: { y: ['z'] } }, 'k-1': 'd' } },
    { dcname: 'd', metadata: { v: null, n: -2, s: 'null', arr: [1, 2], e: '', big: 1e21, tiny: 1e-7 } },
    { dcname: 'e', metadata: { v: 'True', n: 0, s: '', unicode: 'é✓', quote: 'a"b', obj: {} } },
  ]
  const keys = [
    'metadata.v',
    'metadata.n',
    'metadata.s',
    'metadata.deep.x',
    'metadata.deep.x.y',
    'metadata.arr',
    'metadata.arr.0',
    'metadata.e',
    'metadata.k-1',
    'metadata.big',
    'metadata.tiny',
    'metadata.unicode',
    'metadata.quote',
    'metadata.obj',
    'dcname',
  ]
  const values = ['true', 'false', '"true"', 'True', '1', '1.0', '1.5', '-2', '0', 'null', '', 'z', '["z"]', '[1,2]']
  const more = ['d', 'a', 'e', '1e+21', '1e21', '1e-7', 'é✓', 'a"b', '{}', '"z"']

  beforeAll(async () => {
    dir = tempDir('filters-')
    store = new SqliteConfigStore({ path: join(dir, 'configs.db'), open: openBunSqlite })
    for (const c of configs) await store.create(c, author)
  })
  afterAll(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('when every filter of a table is run both ways, then both select the same configs', async () => {
    const disagreements: string[] = []
    for (const key of keys) {
      for (const value of [...values, ...more]) {
        const filters = [filter(key, value)]
        const page = await store.list({ filters, limit: 100 })
        const inSql = page.items.map((item) => item.config.dcname)
        const inMemory = configs.filter((c) => matchesFilters(c, filters)).map((c) => c.dcname)
        if (JSON.stringify(inSql) !== JSON.stringify(inMemory)) {
          disagreements.push(`${key}=${value}: sql ${inSql} memory ${inMemory}`)
        }
      }
    }
    expect(disagreements).toEqual([])
  })
})
