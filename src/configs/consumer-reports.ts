/**
 * Consumer reports as one replica takes them in: a report is queued in memory and written with
 * every other report of the same interval in one store transaction (CONSUMERS_FLUSH_MS), so a
 * fleet's heartbeats cost one write per interval, not one per agent. A report is answered once
 * its batch is stored: any replica asked next lists it. Lists and counts read the store, which
 * every replica shares, so they answer the same wherever they are asked.
 *
 * Memory is bounded: the queue holds at most one report per consumer and config, and is written
 * at once when it reaches MAX_QUEUED; the store holds at most CONSUMERS_MAX_PER_CONFIG reports
 * per config, and drops a report one TTL after it expired.
 */
import type { ConsumerStore } from './consumer-store.ts'
import {
  CONSUMER_STATUS_STATES,
  ConsumerLimitError,
  type ConsumerReport,
  type ConsumerStatus,
  type ConsumerStatusState,
  type ConsumerSummary,
  statusOf,
  summarizeConsumers,
} from './consumers.ts'

/** Past this many queued reports a batch is written at once rather than at the interval's end. */
const MAX_QUEUED = 1000

export interface ConsumerReportOptions {
  /** A report expires this long after it was made unless the consumer reports again. */
  ttlMs: number
  /** How long a report waits for others to share its write. */
  flushMs: number
  maxPerConfig: number
  /** The clock of report times and expiry (ms since the epoch); tests move it. */
  now?: () => number
}

interface Queued {
  report: ConsumerReport
  waiters: { resolve: (status: ConsumerStatus) => void; reject: (error: unknown) => void }[]
}

export class ConsumerReports {
  readonly ttlMs: number
  private readonly now: () => number
  private queued = new Map<string, Queued>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly pruning: ReturnType<typeof setInterval>
  /** Batches are written one after the other, in the order they were closed. */
  private writing: Promise<void> = Promise.resolve()
  private closed = false

  constructor(
    private readonly store: ConsumerStore,
    private readonly options: ConsumerReportOptions,
  ) {
    this.ttlMs = options.ttlMs
    this.now = options.now ?? Date.now
    // Expired reports would otherwise stay until their config gets a new consumer.
    this.pruning = setInterval(() => void this.prune().catch(() => {}), options.ttlMs)
    this.pruning.unref?.()
  }

  /** Queues a report; settles once it is stored (ConsumerLimitError when its config is full). */
  report(report: Omit<ConsumerReport, 'reportedAt'>): Promise<ConsumerStatus> {
    const key = `${report.dcname}\u0000${report.consumer}`
    return new Promise<ConsumerStatus>((resolve, reject) => {
      if (this.closed) throw new Error('consumer reports are closed')
      const entry = this.queued.get(key) ?? { report: { ...report, reportedAt: 0 }, waiters: [] }
      // A newer report of the same consumer in the same batch replaces the older one.
      entry.report = { ...report, reportedAt: this.now() }
      entry.waiters.push({ resolve, reject })
      this.queued.set(key, entry)
      if (this.queued.size >= MAX_QUEUED) void this.flush()
      else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs)
    })
  }

  /** The reports on one config as they count now, by consumer name. */
  async list(dcname: string): Promise<ConsumerStatus[]> {
    const now = this.now()
    const reports = await this.store.list(dcname)
    return reports.filter((r) => r.reportedAt + 2 * this.ttlMs > now).map((r) => statusOf(r, now, this.ttlMs))
  }

  /** The states of the consumers of one config (see summarizeConsumers): what a rollout gate reads. */
  async summary(dcname: string, revision?: number): Promise<ConsumerSummary> {
    return summarizeConsumers(await this.list(dcname), revision)
  }

  /** Every kept report by what it counts as now (the `config_consumers` gauge). */
  async countStates(): Promise<Record<ConsumerStatusState, number>> {
    const counts = await this.store.countStates(this.expiredBefore(this.now()))
    return Object.fromEntries(CONSUMER_STATUS_STATES.map((s) => [s, counts[s] ?? 0])) as typeof counts
  }

  /** Writes the queued reports now. */
  flush(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    const batch = [...this.queued.values()]
    this.queued = new Map()
    const written = this.writing.then(() => (batch.length > 0 ? this.write(batch) : undefined))
    this.writing = written.catch(() => {})
    return written
  }

  /** Drops reports expired for more than one TTL. */
  prune(): Promise<number> {
    return this.store.prune(this.expiredBefore(this.now() - this.ttlMs))
  }

  /** Reports made before this (ms) are expired at `now`: a report expires at reportedAt + TTL. */
  private expiredBefore(now: number): number {
    return now - this.ttlMs + 1
  }

  /** Writes what is queued, then closes the store. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.pruning)
    await this.flush().catch(() => {})
    await this.store.close()
  }

  private async write(batch: Queued[]): Promise<void> {
    const now = this.now()
    const limits = { maxPerConfig: this.options.maxPerConfig, expiredBefore: this.expiredBefore(now) }
    let outcomes: Awaited<ReturnType<ConsumerStore['write']>>
    try {
      outcomes = await this.store.write(
        batch.map((q) => q.report),
        limits,
      )
    } catch (error) {
      for (const { waiters } of batch) for (const waiter of waiters) waiter.reject(error)
      return
    }
    batch.forEach(({ report, waiters }, i) => {
      const full = outcomes[i] === 'full'
      for (const waiter of waiters) {
        if (full) waiter.reject(new ConsumerLimitError(report.dcname, this.options.maxPerConfig))
        else waiter.resolve(statusOf(report, now, this.ttlMs))
      }
    })
  }
}
