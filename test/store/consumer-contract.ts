/**
 * The ConsumerStore contract, written once and run against every adapter (consumers-sqlite,
 * consumers-postgres and consumers-memory tests): what a report batch stores, replaces, refuses
 * and drops, and how reports are counted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import type { ConsumerStore } from '../../src/configs/consumer-store.ts'
import type { ConsumerReport } from '../../src/configs/consumers.ts'

export interface ConsumerStoreFixture {
  /** A new handle on the same database (another replica's, on PostgreSQL). */
  open(): Promise<ConsumerStore>
  dispose(): Promise<void>
}

const report = (consumer: string, reportedAt: number, more: Partial<ConsumerReport> = {}): ConsumerReport => ({
  dcname: 'dc-a',
  consumer,
  revision: 3,
  state: 'applied',
  message: '',
  reportedAt,
  ...more,
})

const limits = { maxPerConfig: 3, expiredBefore: 0 }

export function describeConsumerStoreContract(backend: string, makeFixture: () => Promise<ConsumerStoreFixture>) {
  describe(`ConsumerStore contract: ${backend}`, () => {
    let fixture: ConsumerStoreFixture
    let store: ConsumerStore
    const opened: ConsumerStore[] = []
    const open = async () => {
      const handle = await fixture.open()
      opened.push(handle)
      return handle
    }
    beforeEach(async () => {
      fixture = await makeFixture()
      store = await open()
    })
    afterEach(async () => {
      for (const handle of opened.splice(0)) await handle.close().catch(() => {})
      await fixture.dispose()
    })

    it('when a batch is written, then each report is listed on its config, by consumer name', async () => {
      const outcomes = await store.write(
        [
          report('web-2', 10),
          report('web-1', 11, { state: 'rejected', message: 'bad port' }),
          report('web-1', 12, { dcname: 'dc-b' }),
        ],
        limits,
      )
      expect(outcomes).toEqual(['stored', 'stored', 'stored'])
      expect(await store.list('dc-a')).toEqual([
        report('web-1', 11, { state: 'rejected', message: 'bad port' }),
        report('web-2', 10),
      ])
      expect(await store.list('dc-b')).toEqual([report('web-1', 12, { dcname: 'dc-b' })])
      expect(await store.list('dc-none')).toEqual([])
    })

    it('when a consumer reports again, then its newer report replaces the older one, and an older one changes nothing', async () => {
      await store.write([report('web-1', 10)], limits)
      await store.write([report('web-1', 20, { revision: 5, state: 'rejected', message: 'no' })], limits)
      await store.write([report('web-1', 15, { revision: 4 })], limits)
      expect(await store.list('dc-a')).toEqual([report('web-1', 20, { revision: 5, state: 'rejected', message: 'no' })])
    })

    it('when a config holds maxPerConfig live reports, then a new consumer is refused and nothing of it is stored', async () => {
      await store.write([report('a', 10), report('b', 10), report('c', 10)], limits)
      const outcomes = await store.write([report('d', 11), report('a', 12)], limits)
      expect(outcomes).toEqual(['full', 'stored'])
      expect((await store.list('dc-a')).map((r) => [r.consumer, r.reportedAt])).toEqual([
        ['a', 12],
        ['b', 10],
        ['c', 10],
      ])
    })

    it('when a full config has expired reports, then a new consumer takes the place of the longest-expired one', async () => {
      await store.write([report('a', 5), report('b', 3), report('c', 50)], limits)
      const outcomes = await store.write([report('d', 60)], { maxPerConfig: 3, expiredBefore: 10 })
      expect(outcomes).toEqual(['stored'])
      expect((await store.list('dc-a')).map((r) => r.consumer)).toEqual(['a', 'c', 'd'])
    })

    it('when states are counted, then reports made before expiredBefore count as expired, the rest as they said', async () => {
      await store.write(
        [report('a', 5), report('b', 50), report('c', 60, { state: 'rejected' }), report('d', 70, { dcname: 'dc-b' })],
        limits,
      )
      expect(await store.countStates(10)).toEqual({ applied: 2, rejected: 1, expired: 1 })
      expect(await store.countStates(100)).toEqual({ applied: 0, rejected: 0, expired: 4 })
    })

    it('when pruned, then only the reports made before the time are dropped', async () => {
      await store.write([report('a', 5), report('b', 50), report('c', 4, { dcname: 'dc-b' })], limits)
      expect(await store.prune(10)).toBe(2)
      expect((await store.list('dc-a')).map((r) => r.consumer)).toEqual(['b'])
      expect(await store.list('dc-b')).toEqual([])
    })

    it('when another handle on the same database lists, then it sees what this one wrote', async () => {
      const other = await open()
      await store.write([report('web-1', 10, { message: 'ünïcode ✓' })], limits)
      expect(await other.list('dc-a')).toEqual([report('web-1', 10, { message: 'ünïcode ✓' })])
    })
  })
}
