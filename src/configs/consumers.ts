/**
 * Consumers of a config: the programs (agents, sidecars) that apply it and report what they did
 * with each revision, `applied` or `rejected` with a message. A report lives for a TTL: a
 * consumer that stops reporting (its pod died) is `expired` once its last report is older than
 * that, and its report is dropped one TTL later. This module is the model and the pure rules
 * (name, bounds, status, summary); consumer-reports.ts keeps and batches reports, and
 * consumer-store.ts is the port their persistence implements.
 */
import { t } from 'elysia'

export const CONSUMER_STATES = ['applied', 'rejected'] as const
/** What a consumer said of a revision. */
export type ConsumerState = (typeof CONSUMER_STATES)[number]
/** What a report counts as now: what it said, or `expired` once its TTL passed without another. */
export type ConsumerStatusState = ConsumerState | 'expired'
export const CONSUMER_STATUS_STATES: readonly ConsumerStatusState[] = ['applied', 'rejected', 'expired']

const CONSUMER_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$'
const consumerRegExp = new RegExp(CONSUMER_PATTERN)
export const MAX_CONSUMER_MESSAGE = 1024

export function isConsumerName(value: string): boolean {
  return consumerRegExp.test(value)
}

export const CONSUMER_RULE =
  '1 to 128 letters, digits, ".", "_" or "-", starting and ending with a letter or digit (a hostname fits)'

export const ConsumerName = t.String({
  pattern: CONSUMER_PATTERN,
  minLength: 1,
  maxLength: 128,
  description: `Who reports, e.g. a pod's hostname: ${CONSUMER_RULE}.`,
  examples: ['web-7d9f8-x2x4q'],
})

/** One consumer's newest report on one config, as stored. */
export interface ConsumerReport {
  dcname: string
  consumer: string
  /** The revision of the config the report is about. */
  revision: number
  state: ConsumerState
  /** Why it was rejected (a check's output), or a note; '' when none. */
  message: string
  /** When the report arrived, ms since the epoch (the replica's clock). */
  reportedAt: number
}

/** A report as it counts now. */
export interface ConsumerStatus extends ConsumerReport {
  status: ConsumerStatusState
  /** When it expires (or expired) without another report, ms since the epoch. */
  expiresAt: number
}

export function statusOf(report: ConsumerReport, now: number, ttlMs: number): ConsumerStatus {
  const expiresAt = report.reportedAt + ttlMs
  return { ...report, status: expiresAt <= now ? 'expired' : report.state, expiresAt }
}

/**
 * The states of the consumers of one config, as a rollout's gate reads them: how many are live,
 * how many applied `revision` or a later one, which rejected it (with their messages), how
 * many expired. Without `revision`, `applied` counts every live applied report.
 */
export interface ConsumerSummary {
  /** Every report kept, expired ones included. */
  total: number
  /** Reports not expired. */
  live: number
  applied: number
  rejected: { consumer: string; revision: number; message: string }[]
  expired: number
  /** The newest revision some live consumer applied (0: none). */
  newestApplied: number
}

export function summarizeConsumers(statuses: readonly ConsumerStatus[], revision = 0): ConsumerSummary {
  const summary: ConsumerSummary = {
    total: statuses.length,
    live: 0,
    applied: 0,
    rejected: [],
    expired: 0,
    newestApplied: 0,
  }
  for (const status of statuses) {
    if (status.status === 'expired') {
      summary.expired++
      continue
    }
    summary.live++
    if (status.status === 'applied') {
      if (status.revision >= revision) summary.applied++
      summary.newestApplied = Math.max(summary.newestApplied, status.revision)
    } else if (status.revision >= revision) {
      summary.rejected.push({ consumer: status.consumer, revision: status.revision, message: status.message })
    }
  }
  return summary
}

/** The config already has as many unexpired reports as CONSUMERS_MAX_PER_CONFIG allows (409). */
export class ConsumerLimitError extends Error {
  constructor(
    readonly dcname: string,
    readonly max: number,
  ) {
    super(
      `config ${JSON.stringify(dcname)} already has ${max} consumers reporting (CONSUMERS_MAX_PER_CONFIG); ` +
        'a new one is accepted once one of them expires',
    )
    this.name = 'ConsumerLimitError'
  }
}

/** A report on a revision the config never reached: no consumer can have seen it (422). */
export class ReportedRevisionError extends Error {
  constructor(
    readonly dcname: string,
    readonly revision: number,
    readonly current: number,
  ) {
    super(`config ${JSON.stringify(dcname)} is at revision ${current}: revision ${revision} cannot have been applied`)
    this.name = 'ReportedRevisionError'
  }
}
