/**
 * What a read at a past revision answers, the same on every backend: the newest entry of the
 * config at or before that revision decides, unless retention dropped entries there (then the
 * answer is no longer known: RevisionCompactedError).
 */
import { type ChangeType, RevisionCompactedError, type StoredConfig } from '../configs/config-store.ts'
import type { Config } from '../configs/model.ts'

export interface StateAtFacts {
  dcname: string
  revision: number
  /** The config's newest kept entry at or before `revision`. */
  entry?: { revision: number; type: ChangeType; body: string }
  /** The range of the config's revisions retention dropped, if any. */
  dropped?: { first: number; through: number }
  /** The config's oldest kept revision. */
  oldestKept?: number
}

export function stateAt({ dcname, revision, entry, dropped, oldestKept }: StateAtFacts): StoredConfig | undefined {
  // The entry decides when nothing between it and `revision` can have been dropped.
  const decides =
    entry !== undefined && (dropped === undefined || entry.revision > dropped.through || revision < dropped.first)
  if (entry && decides) {
    return entry.type === 'DELETED' ? undefined : { config: JSON.parse(entry.body) as Config, revision: entry.revision }
  }
  if (dropped && revision >= dropped.first) {
    throw new RevisionCompactedError(dcname, revision, oldestKept ?? dropped.through + 1)
  }
  return undefined
}
