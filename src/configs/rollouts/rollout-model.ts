/**
 * A rollout: one config change taken to many configs wave by wave, each wave watched for a bake
 * time by its gates, and undone (or paused) when a gate fails. The rollout is a document the
 * store keeps whole (rollout-store.ts): every step of the driver reads it, acts, and saves it
 * back, so a restarted or another replica's driver continues from where it was.
 */
import type { Filter } from '../config-store.ts'

/** A JSON Merge Patch of the metadata, or the whole metadata to set. */
export type RolloutChange = { merge: Record<string, unknown> } | { metadata: Record<string, unknown> }

/** Which configs a rollout changes: those matching every criterion given. */
export interface RolloutTarget {
  prefix?: string
  filters?: Filter[]
  dcnames?: string[]
}

export type RolloutGate = { prometheus: string } | { consumers: { applied: number; withinMs: number } }

export type OnFailure = 'revert' | 'pause'

/** What a rollout's creator asked for, checked (rollout-spec.ts) and with its waves resolved. */
export interface RolloutPlan {
  change: RolloutChange
  target: RolloutTarget
  /** The dcnames of each wave, in order; together exactly the targeted configs. */
  waves: string[][]
  bakeMs: number
  gates: RolloutGate[]
  /** How many actors other than the creator must approve before the first wave. */
  approvals: number
  onFailure: OnFailure
}

export const ROLLOUT_STATUSES = [
  'pending-approval',
  'applying',
  'baking',
  'paused',
  'reverting',
  'reverted',
  'completed',
  'aborted',
] as const
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number]

/** Statuses a driver still has work in (or may have again, once resumed). */
export const ACTIVE_STATUSES: readonly RolloutStatus[] = [
  'pending-approval',
  'applying',
  'baking',
  'paused',
  'reverting',
]

export function isFinished(status: RolloutStatus): boolean {
  return status === 'reverted' || status === 'completed' || status === 'aborted'
}

/**
 * One config's part in a rollout. `before` is the revision seen when its wave started (its
 * pre-rollout revision: a config is changed in one wave only); `applied` the revision the
 * rollout's write made; `reverted` the revision of the write that restored `before`.
 */
export interface ConfigProgress {
  dcname: string
  wave: number
  state: 'pending' | 'applied' | 'reverted' | 'kept'
  before?: number
  applied?: number
  reverted?: number
}

export interface TimelineEntry {
  /**
   * The entry's number among every rollout's events, given by the store when the entry is first
   * saved (an entry without one is new): a rollout watch resumes after it (`since`).
   */
  seq?: number
  /** ms since the epoch, by the driver's clock. */
  time: number
  event: string
  wave?: number
  dcname?: string
  detail?: string
}

/** Who created the rollout: its writes are made as this principal. */
export interface RolloutCreator {
  actor: string
  role: 'reader' | 'writer' | 'admin'
  prefixes?: readonly string[]
}

export interface Rollout {
  id: string
  createdBy: RolloutCreator
  createdAt: number
  plan: RolloutPlan
  status: RolloutStatus
  /** The wave being applied or baked (0-based); -1 before the first. */
  wave: number
  /** While baking: when the bake ends (ms since the epoch). */
  bakeUntil?: number
  /** While paused: the status `resume` returns to. */
  pausedFrom?: 'pending-approval' | 'applying' | 'baking' | 'reverting'
  /** Set by abort: the revert ends in `aborted` rather than `reverted`. */
  aborting?: boolean
  /** Why it paused, reverted or stopped, in one line. */
  reason?: string
  /** The config whose concurrent edit paused it: resume re-reads it (applying) or keeps it (reverting). */
  conflict?: string
  approvedBy: string[]
  configs: ConfigProgress[]
  timeline: TimelineEntry[]
}

/** At most this many timeline entries are kept: the oldest go first. */
export const MAX_TIMELINE = 200

export function withEvent(rollout: Rollout, entry: TimelineEntry): Rollout {
  const timeline = [...rollout.timeline, entry]
  return { ...rollout, timeline: timeline.slice(Math.max(0, timeline.length - MAX_TIMELINE)) }
}

/** The rollout applying wave `wave` from `now` on (its first, once approved; the next, once one baked). */
export function startWave(rollout: Rollout, wave: number, now: number): Rollout {
  const started = { ...rollout, status: 'applying' as const, wave, bakeUntil: undefined }
  const count = rollout.plan.waves[wave]?.length ?? 0
  return withEvent(started, { time: now, event: 'wave-started', wave, detail: `${count} config(s)` })
}

export class RolloutNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`rollout ${JSON.stringify(id)} does not exist`)
    this.name = 'RolloutNotFoundError'
  }
}

/** An action the rollout's status does not allow (resume a running one, approve one's own): 409. */
export class RolloutStateError extends Error {
  constructor(detail: string) {
    super(detail)
    this.name = 'RolloutStateError'
  }
}

/** A rollout request that cannot be carried out as asked (422), each fault at a JSON pointer. */
export class RolloutInvalidError extends Error {
  constructor(
    detail: string,
    readonly errors: { pointer: string; message: string }[] = [],
  ) {
    super(detail)
    this.name = 'RolloutInvalidError'
  }
}
