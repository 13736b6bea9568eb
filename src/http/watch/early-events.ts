/**
 * Live events that reach a watcher before it goes live (while it starts, or replays history),
 * newest last, with the bytes their frames will take. When they would not fit the watcher's
 * budget they are let go, and counted: the replay then reads them from the store instead.
 */
import type { ChangeEvent } from '../../configs/config-store.ts'
import { frameOf } from './frames.ts'

/**
 * What an event counts for is its own type's frame; a filtered view may send it as another
 * type, whose name (written twice in the frame) is up to this much longer.
 */
const TYPE_SLACK = 2 * ('MODIFIED'.length - 'ADDED'.length)

export class EarlyEvents {
  private events: ChangeEvent[] = []
  /** Bytes of the frames of the events held. */
  bytes = 0
  /** Times the events held were let go. */
  overflows = 0

  get length(): number {
    return this.events.length
  }

  add(event: ChangeEvent): void {
    this.events.push(event)
    this.bytes += bytesOf(event)
  }

  letGo(): void {
    this.events = []
    this.bytes = 0
    this.overflows++
  }

  /** Keeps only the events after `revision` (the ones before were read from the store). */
  keepAfter(revision: number): void {
    this.events = this.events.filter((event) => event.revision > revision)
    this.bytes = 0
    for (const event of this.events) this.bytes += bytesOf(event)
  }

  /** Every event held, oldest first; none is held afterwards. */
  takeAll(): ChangeEvent[] {
    const events = this.events
    this.events = []
    this.bytes = 0
    return events
  }
}

function bytesOf(event: ChangeEvent): number {
  return frameOf(event, event.type).length + TYPE_SLACK
}
