/** What the PostgreSQL store's writes answer, as its group commit sees them. */
import type { ReplaceResult, StoredConfig } from '../../configs/config-store.ts'
import type { SchemaPutResult } from '../../configs/schema-model.ts'

export type WriteResult = StoredConfig | ReplaceResult | SchemaPutResult | number | boolean

/** The newest revision a transaction's writes committed (a seed tells none). */
export function newestRevision(results: WriteResult[]): number | undefined {
  const revisions = results.flatMap((result) => {
    if (typeof result === 'number') return [result]
    if (typeof result === 'boolean') return []
    return ['stored' in result ? result.stored.revision : result.revision]
  })
  return revisions.length === 0 ? undefined : Math.max(...revisions)
}
