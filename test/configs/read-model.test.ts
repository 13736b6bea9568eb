/**
 * The read model alone: events applied in any overlap with a load, the filter index kept
 * exact through writes, and its answers equal to the filters evaluated on every config
 * (matchesFilters, which test/configs/filter-match.test.ts holds to the stores' SQL).
 */
import { describe, expect, it } from 'bun:test'
import type { ChangeEvent, Filter, ListQuery } from '../../src/configs/config-store.ts'
import { matchesFilters } from '../../src/configs/filter-match.ts'
import type { Config } from '../../src/configs/model.ts'
import { ReadModel } from '../../src/configs/read-model/read-model.ts'
import { config } from '../support/configs.ts'

const event = (type: ChangeEvent['type'], revision: number, dcname: string, metadata = {}): ChangeEvent => ({
  type,
  revision,
  config: config(dcname, metadata),
})
const filter = (key: string, value: string): Filter => ({ path: key.split('.'), value })
const query = (filters: Filter[] = [], limit = 1000, after?: string): ListQuery => ({ filters, limit, after })
const names = (model: ReadModel, q: ListQuery) => model.list(q).items.map((item) => item.dcname)

describe('ReadModel', () => {
  it('when events arrive, then get answers each config with its revision and its JSON text', () => {
    const model = new ReadModel()
    model.apply(event('ADDED', 1, 'dc-a', { team: 'x' }))
    model.apply(event('MODIFIED', 2, 'dc-a', { team: 'y' }))
    model.apply(event('ADDED', 3, 'dc-b'))
    model.apply(event('DELETED', 4, 'dc-b'))
    const stored = model.get('dc-a')
    expect(stored?.revision).toBe(2)
    expect(stored?.json).toBe(JSON.stringify(config('dc-a', { team: 'y' })))
    expect(stored?.config).toEqual(config('dc-a', { team: 'y' }))
    expect(model.get('dc-b')).toBeUndefined()
    expect(model.revision).toBe(4)
    expect(model.size).toBe(1)
  })

  it('when an event is older than what a load showed, then it is skipped, and the revision still advances', () => {
    const model = new ReadModel(10)
    model.load({ config: config('dc-a', { v: 'loaded' }), revision: 9 })
    model.apply(event('MODIFIED', 7, 'dc-a', { v: 'older' }))
    model.apply(event('DELETED', 9, 'dc-a'))
    expect(model.get('dc-a')?.config).toEqual(config('dc-a', { v: 'loaded' }))
    model.apply(event('MODIFIED', 12, 'dc-a', { v: 'newer' }))
    expect(model.get('dc-a')?.config).toEqual(config('dc-a', { v: 'newer' }))
    expect(model.revision).toBe(12)
  })

  it('when configs are loaded out of order or twice, then list still pages in dcname order', () => {
    const model = new ReadModel(5)
    for (const [name, revision] of [
      ['dc-c', 3],
      ['dc-a', 1],
      ['dc-b', 2],
      ['dc-a', 4],
    ] as const) {
      model.load({ config: config(name), revision })
    }
    expect(names(model, query())).toEqual(['dc-a', 'dc-b', 'dc-c'])
    expect(model.get('dc-a')?.revision).toBe(4)
  })

  it('when a list is paged, then limit, more and after walk every config once', () => {
    const model = new ReadModel()
    for (let i = 0; i < 25; i++) model.apply(event('ADDED', i + 1, `dc-${String(i).padStart(2, '0')}`))
    const seen: string[] = []
    let after: string | undefined
    for (;;) {
      const page = model.list(query([], 10, after))
      seen.push(...page.items.map((item) => item.dcname))
      after = page.items.at(-1)?.dcname
      if (!page.more) break
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `dc-${String(i).padStart(2, '0')}`))
    expect(model.list(query([], 25)).more).toBe(false)
    expect(model.list(query([], 24)).more).toBe(true)
  })

  it('when a leaf changes, then the index moves the config from the old value to the new one, and a delete removes it', () => {
    const model = new ReadModel()
    model.apply(event('ADDED', 1, 'dc-a', { team: 'x', monitoring: { enabled: true } }))
    model.apply(event('ADDED', 2, 'dc-b', { team: 'x' }))
    expect(names(model, query([filter('metadata.team', 'x')]))).toEqual(['dc-a', 'dc-b'])
    model.apply(event('MODIFIED', 3, 'dc-a', { team: 'y', monitoring: { enabled: true } }))
    expect(names(model, query([filter('metadata.team', 'x')]))).toEqual(['dc-b'])
    expect(names(model, query([filter('metadata.team', 'y')]))).toEqual(['dc-a'])
    expect(names(model, query([filter('metadata.monitoring.enabled', 'true')]))).toEqual(['dc-a'])
    model.apply(event('DELETED', 4, 'dc-a', { team: 'y', monitoring: { enabled: true } }))
    expect(names(model, query([filter('metadata.team', 'y')]))).toEqual([])
    expect(names(model, query([filter('metadata.monitoring.enabled', 'true')]))).toEqual([])
  })

  it('when filters are combined (AND, dcname too), then only configs matching all of them are listed', () => {
    const model = new ReadModel()
    model.apply(event('ADDED', 1, 'dc-a', { team: 'x', tier: 1 }))
    model.apply(event('ADDED', 2, 'dc-b', { team: 'x', tier: 2 }))
    model.apply(event('ADDED', 3, 'dc-c', { team: 'y', tier: 1 }))
    expect(names(model, query([filter('metadata.team', 'x'), filter('metadata.tier', '1')]))).toEqual(['dc-a'])
    expect(names(model, query([filter('dcname', 'dc-b'), filter('metadata.team', 'x')]))).toEqual(['dc-b'])
    expect(names(model, query([filter('dcname', 'dc-b'), filter('metadata.team', 'y')]))).toEqual([])
    expect(names(model, query([filter('dcname', 'nope')]))).toEqual([])
    expect(names(model, query([filter('metadata.team', 'none')]))).toEqual([])
  })

  it('when a key holds a NUL, then it cannot pose as another path and value in the index', () => {
    const model = new ReadModel()
    model.apply(event('ADDED', 1, 'dc-a', { 'a\u0000x': 'y' }))
    expect(names(model, query([filter('metadata.a', 'x\u0000y')]))).toEqual([])
  })

  it('when random writes are applied, then every search equals matchesFilters over every config', () => {
    let seed = 42
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const values = ['a', 'b', true, false, 1, '1', null, 'true', { deep: 'a' }, ['a']]
    const truth = new Map<string, Config>()
    const model = new ReadModel()
    for (let revision = 1; revision <= 3000; revision++) {
      const name = `dc-${random(200)}`
      if (random(5) === 0) {
        model.apply(event('DELETED', revision, name, truth.get(name)?.metadata ?? {}))
        truth.delete(name)
      } else {
        const metadata = { team: values[random(values.length)], limits: { cpu: values[random(values.length)] } }
        model.apply(event(truth.has(name) ? 'MODIFIED' : 'ADDED', revision, name, metadata))
        truth.set(name, config(name, metadata))
      }
    }
    const sorted = [...truth.values()].sort((a, b) => (a.dcname < b.dcname ? -1 : 1))
    const queries = [
      [filter('metadata.team', 'a')],
      [filter('metadata.team', 'true')],
      [filter('metadata.team', '1')],
      [filter('metadata.team', 'null')],
      [filter('metadata.team.deep', 'a')],
      [filter('metadata.limits.cpu', 'b'), filter('metadata.team', 'false')],
      [filter('metadata.limits', 'a')],
    ]
    for (const filters of queries) {
      const expected = sorted.filter((c) => matchesFilters(c, filters)).map((c) => c.dcname)
      expect(names(model, query(filters, 10_000))).toEqual(expected)
      const page = model.list(query(filters, 3, expected[1]))
      expect(page.items.map((item) => item.dcname)).toEqual(expected.slice(2, 5))
      expect(page.more).toBe(expected.length > 5)
    }
    expect(model.list(query([], 10_000)).items.map((item) => item.json)).toEqual(sorted.map((c) => JSON.stringify(c)))
  })
})
