/**
 * The storage port of rollouts, apart from ConfigStore: a rollout is kept whole as one document
 * with a version. Every save names the version it read, so two writers (the driver and an API
 * call, or two replicas' drivers) never overwrite each other unseen: the second save fails with
 * RolloutVersionError and its writer reads again. That version check is also the driver's
 * fencing: a driver that lost its lease cannot save a step another driver already took.
 *
 * Each save also appends the timeline entries it adds to the store's rollout event log, in the
 * same transaction, numbered in commit order (`seq`, one sequence for every rollout): the log is
 * what a rollout watch replays after `since`, and what every replica's feed tails.
 */
import type { Rollout, RolloutStatus, TimelineEntry } from './rollout-model.ts'

export interface StoredRollout {
  rollout: Rollout
  version: number
}

export interface RolloutListQuery {
  limit: number
  /** Only rollouts created before this one (the paging token): newest first. */
  before?: string
  status?: RolloutStatus
}

/** One timeline entry as the event log keeps it: with the rollout's status and wave once saved. */
export interface RolloutEvent {
  /** The entry's `seq`: the event's place in the log, what a watch resumes after. */
  revision: number
  rollout: string
  status: RolloutStatus
  wave: number
  entry: TimelineEntry
  /** The rollout's configs: who may read the rollout may read its events. */
  dcnames: readonly string[]
}

export interface RolloutEventPage {
  events: RolloutEvent[]
  more: boolean
}

export interface RolloutStore {
  /**
   * Stores a new rollout at version 1. This and `save` number the timeline entries without a
   * `seq` and log them; the rollout returned has them numbered.
   */
  create(rollout: Rollout): Promise<StoredRollout>
  get(id: string): Promise<StoredRollout | undefined>
  /** Newest first. */
  list(query: RolloutListQuery): Promise<{ items: StoredRollout[]; more: boolean }>
  /** The rollouts a driver has (or may again have) work in, oldest first. */
  active(): Promise<StoredRollout[]>
  /** Saves `rollout` over version `version`; RolloutVersionError when it is no longer that. */
  save(rollout: Rollout, version: number): Promise<StoredRollout>
  /** The `seq` of the newest event logged (0: none yet). */
  newestEvent(): Promise<number>
  /**
   * The logged events after `after`, oldest first, at most `limit`. HistoryCompactedError when
   * events after `after` were dropped (the log keeps the newest ones only).
   */
  eventsAfter(after: number, limit: number): Promise<RolloutEventPage>
  close(): Promise<void>
}

export class RolloutVersionError extends Error {
  constructor(
    readonly id: string,
    readonly expected: number,
  ) {
    super(`rollout ${JSON.stringify(id)} changed since version ${expected}`)
    this.name = 'RolloutVersionError'
  }
}

/**
 * Reads, changes and saves, reading again when another writer saved in between: `change` must be
 * a pure function of the rollout it is given (it may throw to refuse).
 */
export async function updateRollout(
  store: RolloutStore,
  id: string,
  change: (rollout: Rollout) => Rollout,
  notFound: () => Error,
): Promise<StoredRollout> {
  for (;;) {
    const stored = await store.get(id)
    if (!stored) throw notFound()
    try {
      return await store.save(change(stored.rollout), stored.version)
    } catch (error) {
      if (!(error instanceof RolloutVersionError)) throw error
    }
  }
}
