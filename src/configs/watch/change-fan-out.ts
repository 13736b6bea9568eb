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
 *
 * A turn's changes go to at most `SLICE` receivers at a time (for at most `SLICE_MS`), the rest in
 * later turns of the event loop (setImmediate), so that the process answers its database between
 * slices. On PostgreSQL a
 * write holds the store-wide write lock across its transaction's round trips: a replica that
 * handed one change to its 5,000 watchers in one go answered them seconds late on a loaded
 * machine, and the other replicas' writes waited on the lock until they timed out (503;
 * bench/README.md, "Writes behind the fan-out"). Turns are handed out one after the other, in the order they
 * arrived: what arrives while a turn is still being handed out waits for it, and becomes the next
 * turn, so each receiver gets every change once and in order. Up to `SLICE` receivers get a turn
 * as before, all at once in the next turn of the event loop (unless that takes over `SLICE_MS`).
 */
import { setImmediate } from 'node:timers'
import type { ChangeEvent, ChangeFeed } from '../config-store.ts'

/** Receivers handed a turn's changes before the fan-out lets other work of the process run. */
export const SLICE = 256
/**
 * Milliseconds a slice may take, at most, checked every `CHECK_EVERY` receivers: a process that
 * gets little CPU (a loaded machine, a container at its CPU limit) takes far longer than usual
 * for `SLICE` receivers, and then ends a slice early.
 */
export const SLICE_MS = 4
const CHECK_EVERY = 32

/** What the fan-out hands changes to (a Watcher of config events). */
export interface ChangeReceiver {
  receive(event: ChangeEvent): void
  /** Changes that arrived in the same turn, in order (see Watcher.receiveAll). */
  receiveAll(events: readonly ChangeEvent[]): void
  /** The feed cannot deliver without a gap: the receiver was dropped. */
  lost(error: Error): void
}

/** A turn's changes being handed out: to the receivers there were when it began, `next` onwards. */
interface Turn {
  readonly events: readonly ChangeEvent[]
  readonly receivers: readonly ChangeReceiver[]
  next: number
}

export class ChangeFanOut {
  private readonly receivers = new Set<ChangeReceiver>()
  private unsubscribe: (() => void) | undefined
  /** Changes that arrived since the current turn began: the next turn's. */
  private arrivals: ChangeEvent[] = []
  private turn: Turn | undefined
  private scheduled = false

  /** `now`: the clock of SLICE_MS (tests give one of their own). */
  constructor(
    private readonly feed: Pick<ChangeFeed, 'subscribe'>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Hands `receiver` every change from now on; returns what stops it. */
  add(receiver: ChangeReceiver): () => void {
    this.receivers.add(receiver)
    this.unsubscribe ??= this.feed.subscribe(
      (event) => this.arrived(event),
      (error) => {
        // The subscription is gone with every receiver on it; the next one subscribes anew.
        this.unsubscribe = undefined
        this.forget()
        for (const lost of [...this.receivers]) lost.lost(error)
      },
    )
    return () => {
      this.receivers.delete(receiver)
      if (this.receivers.size === 0) this.stop()
    }
  }

  /**
   * Hands over now all that arrived, the rest of a turn being handed out first, and waits for no
   * later turn (changes acknowledged before a shutdown).
   */
  flush(): void {
    this.handOut(Number.POSITIVE_INFINITY)
  }

  private arrived(event: ChangeEvent): void {
    this.arrivals.push(event)
    this.schedule()
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.handOut(SLICE, this.now() + SLICE_MS)
      if (this.turn !== undefined || this.arrivals.length > 0) this.schedule()
    })
  }

  /** Hands changes to at most `budget` receivers, turn after turn, until `deadline` at the latest. */
  private handOut(budget: number, deadline = Number.POSITIVE_INFINITY): void {
    while (budget > 0) {
      if (this.turn === undefined) {
        if (this.arrivals.length === 0) return
        this.turn = { events: this.arrivals, receivers: [...this.receivers], next: 0 }
        this.arrivals = []
      }
      const turn = this.turn
      const end = Math.min(turn.receivers.length, turn.next + budget)
      budget -= end - turn.next
      while (turn.next < end) {
        const receiver = turn.receivers[turn.next++] as ChangeReceiver
        // One that left meanwhile gets nothing more.
        if (this.receivers.has(receiver)) receiver.receiveAll(turn.events)
        // The last receiver left during the hand-over: the turn went with the subscription.
        if (this.turn !== turn) return
        if (turn.next % CHECK_EVERY === 0 && turn.next < end && this.now() >= deadline) return
      }
      if (turn.next >= turn.receivers.length) this.turn = undefined
    }
  }

  private forget(): void {
    this.arrivals = []
    this.turn = undefined
  }

  private stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    this.forget()
  }
}
