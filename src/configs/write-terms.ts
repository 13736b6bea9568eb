/**
 * What a write is given besides its config: the precondition it must meet and who makes it; and
 * how a history read pages. Config and schema writes and histories take them alike, so both
 * contracts import them from here.
 */

export interface Precondition {
  /** The stored revision must equal this; '*' means "must exist". */
  ifMatch?: number | '*'
  /** Only create: fail when the config exists. */
  ifNoneMatch?: '*'
}

/** Who made a write, and in which request: kept with the write's history entry. */
/**
 * Whether a write may go ahead against `current` (the revision stored now, undefined when there
 * is none): the one rule of If-Match / If-None-Match, for configs and schemas alike.
 */
export function preconditionHolds(current: number | undefined, precondition: Precondition): boolean {
  const { ifMatch, ifNoneMatch } = precondition
  if (ifNoneMatch === '*' && current !== undefined) return false
  if (ifMatch === undefined) return true
  return current !== undefined && (ifMatch === '*' || ifMatch === current)
}

export interface WriteMeta {
  /** `anonymous`, `api-token`, a token's name or a JWT subject: whoever access control says. */
  actor: string
  /** The X-Request-Id of the write ('' when there was no request, e.g. the seed). */
  requestId: string
  /**
   * Only run the write, checks and all, and answer what it would store: nothing is stored,
   * published or kept (see dry-run.ts).
   */
  dryRun?: boolean
  /** Set by a store's rollback: the revision whose state the write restores. */
  rollbackOf?: number
  /** The rollout (configs/rollouts) that made the write, kept in its history entry and event. */
  rollout?: string
}

/** A page of a config's or a schema's history. */
export interface HistoryQuery {
  limit: number
  /** Only entries whose revision is below this one (the paging token). */
  before?: number
}
