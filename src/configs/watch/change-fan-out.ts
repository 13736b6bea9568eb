/**
 * The store's changes handed to every config watcher of the process through one subscription to
 * the change feed, held while any watcher listens. A watcher hears of every change from the
 * moment it is added, before its start reads the history (watch-start.ts), so nothing committed
 * in between is lost; its own position drops what the history already held.
 *
 * The store tells of a change on the writer's path (SQLite: in the commit, before the write is
 * acknowledged): it is only noted there, and handed to the watchers in the next turn, after the
 * writes' answers went out. What arrived by then (a burst, or a replica that was behind) is handed
 * to each receiver together, so a live watch can write it as one chunk.
 */
import { setImmediate } from 'node:timers'
import type { ChangeEvent, ChangeFeed } from '../config-store.ts'

/** What the fan-out hands changes to (a Watcher of config events). */
export interface ChangeReceiver {
  receive(event: ChangeEvent): void
  /** Changes that arrived in the same turn, in order (see Watcher.receiveAll). */
  receiveAll(events: readonly ChangeEvent[]): void
  /** The feed cannot deliver without a gap: the receiver was dropped. */
  lost(error: Error): void
}

export class ChangeFanOut {
  private readonly receivers = new Set<ChangeReceiver>()
  private unsubscribe: (() => void) | undefined
  /** Changes not yet handed to the receivers. */
  private arrivals: ChangeEvent[] = []

  constructor(private readonly feed: Pick<ChangeFeed, 'subscribe'>) {}

  /** Hands `receiver` every change from now on; returns what stops it. */
  add(receiver: ChangeReceiver): () => void {
    this.receivers.add(receiver)
    this.unsubscribe ??= this.feed.subscribe(
      (event) => this.arrived(event),
      (error) => {
        // The subscription is gone with every receiver on it; the next one subscribes anew.
        this.unsubscribe = undefined
        this.arrivals = []
        for (const lost of [...this.receivers]) lost.lost(error)
      },
    )
    return () => {
      this.receivers.delete(receiver)
      if (this.receivers.size === 0) this.stop()
    }
  }

  /** Hands over now what arrived and waits for the next turn (changes acknowledged before a shutdown). */
  flush(): void {
    const events = this.arrivals
    this.arrivals = []
    if (events.length === 0) return
    for (const receiver of this.receivers) receiver.receiveAll(events)
  }

  private arrived(event: ChangeEvent): void {
    if (this.arrivals.push(event) === 1) setImmediate(() => this.flush())
  }

  private stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    this.arrivals = []
  }
}
