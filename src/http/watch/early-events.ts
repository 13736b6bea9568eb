/**
 * Live events that reach a watcher before it goes live (while it starts, or replays history),
 * newest last, with the bytes their frames will take. When they would not fit the watcher's
 * budget they are let go, and counted: the replay then reads them from the store instead.
 */

/** Any event a watch stream sends: each has its store revision. */
export interface WatchedEvent {
  revision: number
}

export class EarlyEvents<E extends WatchedEvent> {
  private events: E[] = []
  /** Bytes of the frames of the events held. */
  bytes = 0
  /** Times the events held were let go. */
  overflows = 0

  /** `bytesOf`: what an event held counts for in the watcher's budget (its frame's bytes). */
  constructor(private readonly bytesOf: (event: E) => number) {}

  get length(): number {
    return this.events.length
  }

  add(event: E): void {
    this.events.push(event)
    this.bytes += this.bytesOf(event)
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
    for (const event of this.events) this.bytes += this.bytesOf(event)
  }

  /** Every event held, oldest first; none is held afterwards. */
  takeAll(): E[] {
    const events = this.events
    this.events = []
    this.bytes = 0
    return events
  }
}
