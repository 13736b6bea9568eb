/**
 * The storage port of rollouts, apart from ConfigStore: a rollout is kept whole as one document
 * with a version. Every save names the version it read, so two writers (the driver and an API
 * call, or two replicas' drivers) never overwrite each other unseen: the second save fails with
 * RolloutVersionError and its writer reads again. That version check is also the driver's
 * fencing: a driver that lost its lease cannot save a step another driver already took.
 */
import type { Rollout, RolloutStatus } from './rollout-model.ts'

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

export interface RolloutStore {
  /** Stores a new rollout at version 1. */
  create(rollout: Rollout): Promise<StoredRollout>
  get(id: string): Promise<StoredRollout | undefined>
  /** Newest first. */
  list(query: RolloutListQuery): Promise<{ items: StoredRollout[]; more: boolean }>
  /** The rollouts a driver has (or may again have) work in, oldest first. */
  active(): Promise<StoredRollout[]>
  /** Saves `rollout` over version `version`; RolloutVersionError when it is no longer that. */
  save(rollout: Rollout, version: number): Promise<StoredRollout>
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
