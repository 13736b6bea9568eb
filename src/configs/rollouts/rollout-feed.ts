/**
 * Rollout events as they happen, for watches: the feed tails the store's rollout event log
 * (rollout-store.ts) every `pollMs` while anyone listens, and hands each new event to every
 * listener once, in log order. Reading the log rather than hearing of saves in this process
 * means a watcher on any replica sees the steps of the driver on another one (PostgreSQL); a
 * poll that fails loses nothing, since the next one reads after the same event again.
 */
import { HistoryCompactedError } from '../store-errors.ts'
import type { RolloutEvent, RolloutStore } from './rollout-store.ts'

export type { RolloutEvent }

type Listener = (event: RolloutEvent) => void
/** The feed cannot go on without a gap (the log dropped events it had not read yet). */
type Lost = (error: Error) => void

interface Subscriber {
  listener: Listener
  onLost: Lost
}

const PAGE_SIZE = 500

export class RolloutFeed {
  private readonly subscribers = new Set<Subscriber>()
  /** The `seq` of the last event handed on. */
  private delivered = 0
  /** Settles once `delivered` holds the log's newest event at the first subscription. */
  private ready: Promise<void> | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  /** Bumped when the last subscriber leaves: a poll still running then is let go. */
  private generation = 0

  constructor(
    private readonly store: Pick<RolloutStore, 'newestEvent' | 'eventsAfter'>,
    private readonly pollMs: number,
  ) {}

  /**
   * Hears every event logged after the returned promise resolves (and maybe a few just before:
   * a watch drops what it has already). Returns the unsubscribe.
   */
  async subscribe(listener: Listener, onLost: Lost = () => {}): Promise<() => void> {
    const subscriber = { listener, onLost }
    if (this.subscribers.size === 0) this.begin()
    this.subscribers.add(subscriber)
    const unsubscribe = () => {
      if (this.subscribers.delete(subscriber) && this.subscribers.size === 0) this.end()
    }
    try {
      await this.ready
    } catch (error) {
      unsubscribe()
      throw error
    }
    this.schedule()
    return unsubscribe
  }

  private begin(): void {
    const generation = this.generation
    const ready = this.store.newestEvent().then((newest) => {
      if (generation === this.generation) this.delivered = newest
    })
    this.ready = ready
    // A failure reaches the subscriber that awaits it; none is left unhandled.
    ready.catch(() => {})
  }

  private end(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.ready = undefined
    this.generation++
  }

  private schedule(): void {
    if (this.timer !== undefined || this.subscribers.size === 0) return
    const timer = setTimeout(async () => {
      await this.poll()
      // Everyone left while it ran (and maybe a new feed loop began): this loop ends here.
      if (this.timer !== timer) return
      this.timer = undefined
      this.schedule()
    }, this.pollMs)
    this.timer = timer
  }

  private async poll(): Promise<void> {
    const generation = this.generation
    try {
      for (;;) {
        const page = await this.store.eventsAfter(this.delivered, PAGE_SIZE)
        if (generation !== this.generation) return
        for (const event of page.events) {
          if (event.revision <= this.delivered) continue
          this.delivered = event.revision
          this.dispatch(event)
        }
        if (!page.more) return
      }
    } catch (error) {
      if (generation !== this.generation) return
      // The store did not answer: the next poll reads after the same event. Only a log that
      // dropped unread events leaves a gap, and ends every subscription.
      if (error instanceof HistoryCompactedError) this.lost(error)
    }
  }

  private lost(error: Error): void {
    const subscribers = [...this.subscribers]
    this.subscribers.clear()
    this.end()
    for (const subscriber of subscribers) subscriber.onLost(error)
  }

  private dispatch(event: RolloutEvent): void {
    for (const subscriber of [...this.subscribers]) {
      if (!this.subscribers.has(subscriber)) continue
      try {
        subscriber.listener(event)
      } catch {
        // A failing watcher must never stop the others.
      }
    }
  }
}
