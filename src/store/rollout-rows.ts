/** What both stores' rollout adapters share: rows as the domain's StoredRollout and RolloutEvent. */
import { ACTIVE_STATUSES, type Rollout, type RolloutStatus } from '../configs/rollouts/rollout-model.ts'
import type { RolloutEvent, StoredRollout } from '../configs/rollouts/rollout-store.ts'

export interface RolloutRow {
  body: string | Rollout
  version: number | string
}

export function storedRolloutOf(row: RolloutRow): StoredRollout {
  const rollout = typeof row.body === 'string' ? (JSON.parse(row.body) as Rollout) : row.body
  return { rollout, version: Number(row.version) }
}

export const ACTIVE = ACTIVE_STATUSES as readonly string[]

/** A row of `rollout_events`, as written and as read. */
export interface RolloutEventRow {
  seq: number | string
  rollout_id: string
  status: string
  wave: number | string
  entry: string
}

/**
 * The rollout with the entries a save adds (those without `seq`) numbered from `newest + 1`, and
 * their event rows. Called inside the save's transaction, with the log's newest `seq` read there.
 */
export function numberNewEntries(rollout: Rollout, newest: number): { rollout: Rollout; rows: RolloutEventRow[] } {
  let seq = newest
  const rows: RolloutEventRow[] = []
  const timeline = rollout.timeline.map((entry) => {
    if (entry.seq !== undefined) return entry
    const numbered = { seq: ++seq, ...entry }
    rows.push({
      seq,
      rollout_id: rollout.id,
      status: rollout.status,
      wave: rollout.wave,
      entry: JSON.stringify(numbered),
    })
    return numbered
  })
  return { rollout: rows.length === 0 ? rollout : { ...rollout, timeline }, rows }
}

/** Event rows with the dcnames of each one's rollout (read once per rollout of the page). */
export function rolloutEventOf(row: RolloutEventRow, dcnames: readonly string[]): RolloutEvent {
  return {
    revision: Number(row.seq),
    rollout: row.rollout_id,
    status: row.status as RolloutStatus,
    wave: Number(row.wave),
    entry: JSON.parse(row.entry),
    dcnames,
  }
}
