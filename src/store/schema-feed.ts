/**
 * The schemas' change feed, for either backend: told that something committed (`wake`), it
 * reads the schema history after the last revision it delivered and hands each entry to every
 * subscriber, in order. SQLite wakes it after each schema write of its own; PostgreSQL when the
 * store's change feed learns of a revision without a config event (a schema write of any
 * replica). The feed reads only while someone subscribes.
 */
import type {
  SchemaChangeEvent,
  SchemaChangeListener,
  SchemaChangePage,
  SchemaFeedLost,
} from '../configs/schema-history.ts'

export interface SchemaFeedSource {
  /** The store's newest committed revision: every schema write up to it is in the history. */
  newest(): Promise<number>
  after(revision: number, limit: number): Promise<SchemaChangePage>
  /** Called with the first subscriber; returns what to call after the last one leaves. */
  start?(feed: SchemaFeed): () => void
}

interface Subscriber {
  listener: SchemaChangeListener
  onLost: SchemaFeedLost
}

const PAGE_SIZE = 500

export class SchemaFeed {
  private readonly subscribers = new Set<Subscriber>()
  private delivered = 0
  /** Settles once `delivered` holds the revision the present subscriptions started from. */
  private ready: Promise<void> | undefined
  private stop: (() => void) | undefined
  private pumping = false
  private again = false

  constructor(private readonly source: SchemaFeedSource) {}

  async subscribe(listener: SchemaChangeListener, onLost: SchemaFeedLost): Promise<() => void> {
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
    return unsubscribe
  }

  /** Something committed: deliver what the subscribers have not had yet. */
  wake(): void {
    if (this.subscribers.size === 0) return
    if (this.pumping) {
      this.again = true
      return
    }
    void this.pump()
  }

  /** The feed cannot go on without a gap: every subscription ends, saying why. */
  lost(error: Error): void {
    const subscribers = [...this.subscribers]
    this.subscribers.clear()
    this.end()
    for (const subscriber of subscribers) {
      try {
        subscriber.onLost(error)
      } catch {
        // One subscriber's failure is its own.
      }
    }
  }

  private begin(): void {
    this.stop = this.source.start?.(this)
    const ready = this.source.newest().then((revision) => {
      if (this.ready === ready) this.delivered = revision
    })
    this.ready = ready
    // A failure reaches the subscriber that awaits it; none is left unhandled.
    ready.catch(() => {})
  }

  private end(): void {
    this.stop?.()
    this.stop = undefined
    this.ready = undefined
  }

  private async pump(): Promise<void> {
    this.pumping = true
    try {
      do {
        this.again = false
        await this.ready
        await this.catchUp()
      } while (this.again && this.subscribers.size > 0)
    } catch (error) {
      // Unread entries would leave a gap in every stream: end them, so clients resume from what they got.
      this.lost(error as Error)
    } finally {
      this.pumping = false
    }
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      if (this.subscribers.size === 0) return
      const page = await this.source.after(this.delivered, PAGE_SIZE)
      for (const event of page.events) {
        if (event.revision <= this.delivered) continue
        this.delivered = event.revision
        this.dispatch(event)
      }
      if (!page.more) return
    }
  }

  private dispatch(event: SchemaChangeEvent): void {
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
