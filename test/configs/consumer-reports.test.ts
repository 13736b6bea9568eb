/**
 * ConsumerReports, the domain's side of consumer reports, in process on the memory store (the
 * database adapters pass the same contract: test/store/consumers.test.ts), with a clock the
 * tests move: batching, expiry and dropping, the bound per config, and the summary a rollout
 * gate reads.
 */
import { afterEach, describe, expect, it } from 'bun:test'
import { ConsumerReports } from '../../src/configs/consumer-reports.ts'
import type { ConsumerStore } from '../../src/configs/consumer-store.ts'
import { ConsumerLimitError, type ConsumerReport, summarizeConsumers } from '../../src/configs/consumers.ts'
import { MemoryConsumerStore } from '../../src/configs/memory-consumer-store.ts'

const TTL = 1000
let now = 1_000_000
const opened: ConsumerReports[] = []

/** The memory store, counting the batches written to it. */
function countingStore() {
  const store = new MemoryConsumerStore()
  const batches: ConsumerReport[][] = []
  const counted: ConsumerStore = {
    write: (reports, limits) => {
      batches.push([...reports])
      return store.write(reports, limits)
    },
    list: (dcname) => store.list(dcname),
    countStates: (before) => store.countStates(before),
    prune: (before) => store.prune(before),
    close: () => store.close(),
  }
  return { store: counted, batches }
}

function reports(store: ConsumerStore, maxPerConfig = 10, flushMs = 5) {
  const opened1 = new ConsumerReports(store, { ttlMs: TTL, flushMs, maxPerConfig, now: () => now })
  opened.push(opened1)
  return opened1
}

afterEach(async () => {
  for (const r of opened.splice(0)) await r.close()
})

const applied = (consumer: string, revision = 5) =>
  ({ dcname: 'dc-a', consumer, revision, state: 'applied', message: '' }) as const

describe('ConsumerReports', () => {
  it('when reports arrive within one interval, then they are stored in one write, the newest of a consumer winning', async () => {
    const { store, batches } = countingStore()
    const consumers = reports(store)
    const answered = await Promise.all([
      consumers.report(applied('a', 4)),
      consumers.report(applied('b')),
      consumers.report(applied('a', 5)),
    ])
    expect(batches.length).toBe(1)
    expect(batches[0]?.map((r) => [r.consumer, r.revision])).toEqual([
      ['a', 5],
      ['b', 5],
    ])
    expect(answered.map((s) => s.revision)).toEqual([5, 5, 5])
    expect((await consumers.list('dc-a')).map((s) => [s.consumer, s.revision, s.status])).toEqual([
      ['a', 5, 'applied'],
      ['b', 5, 'applied'],
    ])
  })

  it('when the TTL passes without a report, then it is expired, and one TTL later no longer listed', async () => {
    const consumers = reports(new MemoryConsumerStore())
    const made = await consumers.report(applied('a'))
    expect(made.expiresAt).toBe(now + TTL)
    now += TTL
    expect((await consumers.list('dc-a'))[0]?.status).toBe('expired')
    expect(await consumers.countStates()).toEqual({ applied: 0, rejected: 0, expired: 1 })
    now += TTL
    expect(await consumers.list('dc-a')).toEqual([])
    expect(await consumers.prune()).toBe(1)
  })

  it('when a full config gets a new consumer, then it is refused with ConsumerLimitError, unless one expired', async () => {
    const consumers = reports(new MemoryConsumerStore(), 2)
    await consumers.report(applied('a'))
    now += TTL / 2
    await consumers.report(applied('b'))
    await expect(consumers.report(applied('c'))).rejects.toBeInstanceOf(ConsumerLimitError)
    now += TTL / 2
    await consumers.report(applied('c'))
    expect((await consumers.list('dc-a')).map((s) => s.consumer)).toEqual(['b', 'c'])
  })

  it('when a rollout asks for a revision, then the summary counts who applied it or later, who rejected it, who expired', async () => {
    const consumers = reports(new MemoryConsumerStore())
    await consumers.report(applied('old', 3))
    now += TTL
    await Promise.all([
      consumers.report(applied('a', 7)),
      consumers.report(applied('b', 6)),
      consumers.report(applied('c', 8)),
      consumers.report({ dcname: 'dc-a', consumer: 'd', revision: 7, state: 'rejected', message: 'bad' }),
    ])
    expect(await consumers.summary('dc-a', 7)).toEqual({
      total: 5,
      live: 4,
      applied: 2,
      rejected: [{ consumer: 'd', revision: 7, message: 'bad' }],
      expired: 1,
      newestApplied: 8,
    })
    expect(summarizeConsumers([]).live).toBe(0)
  })
})
