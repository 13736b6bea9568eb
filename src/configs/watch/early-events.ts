/**
 * How a watch joins its replay of the history to the live events, with no gap and no duplicate.
 * Live events that reach a watcher before it goes live (while it starts, or replays history) are
 * held here, newest last, with the bytes the watcher will need for them (`measure`, its framing's
 * business). When they would not fit its budget they are let go, and counted: the replay then
 * reads them from the store instead. The watcher may go live once a page of the replay found
 * nothing more and every event committed since that read began is held here (`caughtUp`).
 */
import type { ChangeEvent } from '../config-store.ts'

export class EarlyEvents {
  private events: ChangeEvent[] = []
  /** Bytes the watcher needs for the events held. */
  bytes = 0
  /** Times the events held were let go. */
  overflows = 0
  /** A page of the replay found nothing more, and every event committed after it since is held here. */
  caughtUp = false

  constructor(private readonly measure: (event: ChangeEvent) => number) {}

  get length(): number {
    return this.events.length
  }

  add(event: ChangeEvent): void {
    this.events.push(event)
    this.bytes += this.measure(event)
  }

  /** The replay reads what was held from the store instead. */
  letGo(): void {
    this.events = []
    this.bytes = 0
    this.overflows++
    this.caughtUp = false
  }

  /** A replay read begins: what `pageRead` is given back, to tell whether events were let go meanwhile. */
  readBegins(): number {
    return this.overflows
  }

  /** A replay page was taken in up to `position`; `more`: the history holds more after it. */
  pageRead(position: number, more: boolean, begun: number): void {
    this.keepAfter(position)
    // Every event committed before this read began is in the page or after it; every one
    // committed later is held here, unless it was let go since.
    this.caughtUp = !more && this.overflows === begun
  }

  /** Keeps only the events after `revision` (the ones before were read from the store). */
  keepAfter(revision: number): void {
    this.events = this.events.filter((event) => event.revision > revision)
    this.bytes = 0
    for (const event of this.events) this.bytes += this.measure(event)
  }

  /** Every event held, oldest first; none is held afterwards. */
  takeAll(): ChangeEvent[] {
    const events = this.events
    this.events = []
    this.bytes = 0
    return events
  }
}
