/**
 * A ConsumerStore in this process's memory alone: what an app built without one gets (in-process
 * tests of other things). The service always runs on the database's (store/*\/\*-consumers.ts),
 * which every replica shares; this one passes the same contract suite.
 */
import type { ConsumerStore, ConsumerWriteLimits, ConsumerWriteOutcome } from './consumer-store.ts'
import type { ConsumerReport, ConsumerStatusState } from './consumers.ts'

export class MemoryConsumerStore implements ConsumerStore {
  private readonly byConfig = new Map<string, Map<string, ConsumerReport>>()

  async write(reports: readonly ConsumerReport[], limits: ConsumerWriteLimits): Promise<ConsumerWriteOutcome[]> {
    return reports.map((report) => {
      const held = this.byConfig.get(report.dcname) ?? new Map<string, ConsumerReport>()
      this.byConfig.set(report.dcname, held)
      const stored = held.get(report.consumer)
      if (!stored && held.size >= limits.maxPerConfig && !evictExpired(held, limits.expiredBefore)) return 'full'
      if (!stored || stored.reportedAt <= report.reportedAt) held.set(report.consumer, { ...report })
      return 'stored'
    })
  }

  async list(dcname: string): Promise<ConsumerReport[]> {
    const held = [...(this.byConfig.get(dcname)?.values() ?? [])]
    return held.sort((a, b) => (a.consumer < b.consumer ? -1 : 1)).map((r) => ({ ...r }))
  }

  async countStates(expiredBefore: number): Promise<Record<ConsumerStatusState, number>> {
    const counts: Record<ConsumerStatusState, number> = { applied: 0, rejected: 0, expired: 0 }
    for (const held of this.byConfig.values()) {
      for (const r of held.values()) counts[r.reportedAt < expiredBefore ? 'expired' : r.state]++
    }
    return counts
  }

  async prune(before: number): Promise<number> {
    let dropped = 0
    for (const held of this.byConfig.values()) {
      for (const [name, r] of held) {
        if (r.reportedAt < before && held.delete(name)) dropped++
      }
    }
    return dropped
  }

  async close(): Promise<void> {}
}

/** Drops the longest-expired report (ties: the first name); false when none expired. */
function evictExpired(held: Map<string, ConsumerReport>, expiredBefore: number): boolean {
  let oldest: ConsumerReport | undefined
  for (const r of held.values()) {
    if (r.reportedAt >= expiredBefore) continue
    if (
      !oldest ||
      r.reportedAt < oldest.reportedAt ||
      (r.reportedAt === oldest.reportedAt && r.consumer < oldest.consumer)
    )
      oldest = r
  }
  return oldest !== undefined && held.delete(oldest.consumer)
}
