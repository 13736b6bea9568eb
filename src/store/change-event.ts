/**
 * An `events` row as the change event it records, the same on every backend: a MODIFIED one
 * with the state it replaced, when the row kept it.
 */
import type { ChangeEvent, ChangeType } from '../configs/config-store.ts'
import type { Config } from '../configs/model.ts'

export interface EventRowText {
  type: ChangeType
  body: string
  previous: string | null
  /** A row of a revision that exists; drivers hand big integers over as text. */
  revision: number | string | null
  rollback_of?: number | string | null
}

export function changeEventOf(row: EventRowText): ChangeEvent {
  return {
    type: row.type,
    config: JSON.parse(row.body) as Config,
    revision: Number(row.revision),
    ...(row.previous === null ? {} : { previous: JSON.parse(row.previous) as Config }),
    ...rollbackOf(row),
  }
}

/** What a row tells of its write beyond the config: its request, and what a rollback restored. */
export function writeDetailsOf(row: { request_id: string; rollback_of?: number | string | null }): {
  requestId?: string
  rollbackOf?: number
} {
  // '' is how a write made by no request (the seed, entries adopted from before history) is stored.
  return { ...(row.request_id === '' ? {} : { requestId: row.request_id }), ...rollbackOf(row) }
}

function rollbackOf(row: { rollback_of?: number | string | null }): { rollbackOf?: number } {
  return row.rollback_of === null || row.rollback_of === undefined ? {} : { rollbackOf: Number(row.rollback_of) }
}
