/**
 * An `events` row as the change event it records, the same on every backend: a MODIFIED one
 * with the state it replaced, when the row kept it, and the stored text as the event's `json`
 * (a replay's frames take it rather than serialise the config again).
 */
import type { ChangeEvent, ChangePage, ChangePageQuery, ChangeType } from '../configs/config-store.ts'
import type { Config } from '../configs/model.ts'

export interface EventRowText {
  type: ChangeType
  body: string
  previous: string | null
  /** A row of a revision that exists; drivers hand big integers over as text. */
  revision: number | string | null
  rollback_of?: number | string | null
  rollout?: string | null
}

export function changeEventOf(row: EventRowText): ChangeEvent {
  return {
    type: row.type,
    config: JSON.parse(row.body) as Config,
    revision: Number(row.revision),
    json: row.body,
    ...(row.previous === null ? {} : { previous: JSON.parse(row.previous) as Config }),
    ...rollbackOf(row),
    ...rolloutOf(row),
  }
}

/** What a row tells of its write beyond the config: its request, and what a rollback restored. */
export function writeDetailsOf(row: {
  request_id: string
  rollback_of?: number | string | null
  rollout?: string | null
}): { requestId?: string; rollbackOf?: number; rollout?: string } {
  // '' is how a write made by no request (the seed, entries adopted from before history) is stored.
  return { ...(row.request_id === '' ? {} : { requestId: row.request_id }), ...rollbackOf(row), ...rolloutOf(row) }
}

/** What a write's event tells beyond the config: the rollback's restored revision, the rollout. */
export function eventDetailsOf(meta: { rollbackOf?: number; rollout?: string }): {
  rollbackOf?: number
  rollout?: string
} {
  return {
    ...(meta.rollbackOf === undefined ? {} : { rollbackOf: meta.rollbackOf }),
    ...(meta.rollout === undefined ? {} : { rollout: meta.rollout }),
  }
}

export function rolloutOf(row: { rollout?: string | null }): { rollout?: string } {
  return row.rollout === null || row.rollout === undefined ? {} : { rollout: row.rollout }
}

function rollbackOf(row: { rollback_of?: number | string | null }): { rollbackOf?: number } {
  return row.rollback_of === null || row.rollback_of === undefined ? {} : { rollbackOf: Number(row.rollback_of) }
}

/**
 * A page row: of the `limit + 1` events after the revision, those that fit the bytes (the stored
 * bytes up to and including it are within the bound; the first always fits) and the one after
 * them, which tells whether there are more. Only rows that fit carry their bodies: the SQL of
 * both stores sums the sizes first, so bodies past the bound are never read out.
 */
export type PageRowText = Omit<EventRowText, 'body'> & { body: string | null; fits: boolean | number | null }

/**
 * The page of rows read for `query` (see PageRowText): a row beyond the page says there are more.
 * A row with no revision (PostgreSQL's, when there are no events at all) is no event.
 */
export function changePageOf(rows: readonly PageRowText[], query: ChangePageQuery): ChangePage {
  const events: ChangeEvent[] = []
  const found = rows.filter((row) => row.revision !== null)
  for (const row of found) {
    if (!row.fits || row.body === null || events.length === query.limit) break
    events.push(changeEventOf({ ...row, body: row.body }))
  }
  return { events, more: found.length > events.length }
}
