/**
 * The port that keeps consumer reports (consumers.ts) so that every replica answers the same:
 * small, apart from ConfigStore (reports are not configs: no revision, no history, no watch).
 * Its adapters live in store/sqlite/sqlite-consumers.ts and store/postgres/postgres-consumers.ts;
 * both pass test/store/consumer-contract.ts. Times are given by the caller, whose clock decides
 * expiry, so a test can move it.
 */
import type { ConsumerReport, ConsumerStatusState } from './consumers.ts'

export interface ConsumerWriteLimits {
  /** Reports one config may hold. */
  maxPerConfig: number
  /** Reports last made before this (ms) are expired: one may make room for a new consumer. */
  expiredBefore: number
}

/** `full`: the report named a new consumer of a config already holding maxPerConfig live reports. */
export type ConsumerWriteOutcome = 'stored' | 'full'

export interface ConsumerStore {
  /**
   * Stores a batch in one transaction, each report replacing the same consumer's older one (a
   * report older than the stored one changes nothing). A new consumer of a full config takes
   * the place of its longest-expired report, or is refused (`full`). One outcome per report.
   */
  write(reports: readonly ConsumerReport[], limits: ConsumerWriteLimits): Promise<ConsumerWriteOutcome[]>
  /** The reports on one config, by consumer name. */
  list(dcname: string): Promise<ConsumerReport[]>
  /** Every report counted by what it counts as at `expiredBefore`. */
  countStates(expiredBefore: number): Promise<Record<ConsumerStatusState, number>>
  /** Drops the reports last made before `before` (ms); returns how many. */
  prune(before: number): Promise<number>
  close(): Promise<void>
}
