/** What both stores' rollout adapters share: a row as the domain's StoredRollout. */
import { ACTIVE_STATUSES, type Rollout } from '../configs/rollouts/rollout-model.ts'
import type { StoredRollout } from '../configs/rollouts/rollout-store.ts'

export interface RolloutRow {
  body: string | Rollout
  version: number | string
}

export function storedRolloutOf(row: RolloutRow): StoredRollout {
  const rollout = typeof row.body === 'string' ? (JSON.parse(row.body) as Rollout) : row.body
  return { rollout, version: Number(row.version) }
}

export const ACTIVE = ACTIVE_STATUSES as readonly string[]
