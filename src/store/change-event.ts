/**
 * An `events` row as the change event it records, the same on every backend: a MODIFIED one
 * with the state it replaced, when the row kept it.
 */
import type { ChangeEvent, ChangeListener, ChangeType } from '../configs/config-store.ts'
import type { Config } from '../configs/model.ts'

export interface EventRowText {
  type: ChangeType
  body: string
  previous: string | null
  /** A row of a revision that exists; drivers hand big integers over as text. */
  revision: number | string | null
}

export function changeEventOf(row: EventRowText): ChangeEvent {
  return {
    type: row.type,
    config: JSON.parse(row.body) as Config,
    revision: Number(row.revision),
    ...(row.previous === null ? {} : { previous: JSON.parse(row.previous) as Config }),
  }
}

/** Tells every listener; one that throws is skipped: it must never fail a write already committed. */
export function notifyAll(listeners: Iterable<ChangeListener>, event: ChangeEvent): void {
  for (const listener of listeners) {
    try {
      listener(event)
    } catch {
      // The listener's own business (a watcher that fails drops itself).
    }
  }
}
