/**
 * The change stream of the PostgreSQL store, shared by every subscriber of one store handle.
 *
 * Writers NOTIFY only the new revision (payloads are capped at 8000 bytes, configs are not);
 * the feed then reads the `events` table for everything after the last revision it delivered.
 * Because revisions commit in order (see the migrations), "everything after N" read after
 * revision M committed holds every change up to M, so each subscriber gets every change once,
 * in order, whichever replica made it. A lost LISTEN connection is retried on a timer, and
 * once it listens again the feed catches up from the table, so nothing is missed meanwhile.
 */
import type { Sql } from 'postgres'
import {
  type ChangeEvent,
  type ChangeListener,
  type ChangeType,
  HistoryCompactedError,
} from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'

export const CHANGES_CHANNEL = 'config_changes'
const PAGE_SIZE = 500

interface Subscriber {
  listener: ChangeListener
  onLost?: (error: HistoryCompactedError) => void
  onProgress?: (revision: number) => void
}

interface ChangeFeedOptions {
  /** The store's pool, for reading events. */
  sql: Sql
  /** A client of its own with at most one connection, which LISTENs and nothing else. */
  listenSql: Sql
  /** How often a lost LISTEN (or a failed catch-up) is retried. */
  retryMs: number
  /** WATCH_HISTORY_SIZE: a handle further behind than this many writes drops its subscribers. */
  historySize: number
}

export class PostgresChangeFeed {
  private readonly subscribers = new Set<Subscriber>()
  private delivered: number
  private listening = false
  /** Counts closes of the listen connection, so a LISTEN that raced with one is not trusted. */
  private disconnects = 0
  private listenAttempt: Promise<void> | undefined
  private pumping = false
  private pumpAgain = false
  private failed = false
  private closed = false
  private readonly timer: ReturnType<typeof setInterval>

  /** `from`: the store revision when the feed starts; subscribers get what commits after it. */
  constructor(
    private readonly options: ChangeFeedOptions,
    from: number,
  ) {
    this.delivered = from
    this.timer = setInterval(() => this.tick(), options.retryMs)
    // The timer only retries; it must not keep a process alive that is otherwise done.
    ;(this.timer as { unref?: () => void }).unref?.()
    void this.listen()
  }

  /** The listen connection's client calls this for every notification. */
  notified(payload: string): void {
    const revision = Number(payload)
    this.wake(Number.isSafeInteger(revision) ? revision : undefined)
  }

  /** The listen connection closed: LISTEN is gone with it until the timer re-establishes it. */
  disconnected(): void {
    this.listening = false
    this.disconnects++
  }

  /** Something committed (`revision`, when known): deliver what this handle has not yet. */
  wake(revision?: number): void {
    if (this.closed || (revision !== undefined && revision <= this.delivered)) return
    if (this.subscribers.size === 0 && revision !== undefined) {
      // Nobody to tell: skip ahead without reading the history.
      this.delivered = revision
      return
    }
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    void this.pump()
  }

  subscribe(
    listener: ChangeListener,
    onLost?: (error: HistoryCompactedError) => void,
    onProgress?: (revision: number) => void,
  ): () => void {
    const subscriber: Subscriber = { listener, onLost, onProgress }
    this.subscribers.add(subscriber)
    return () => {
      this.subscribers.delete(subscriber)
    }
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    this.subscribers.clear()
    await this.options.listenSql.end({ timeout: 1 }).catch(() => {})
  }

  private tick(): void {
    if (this.closed) return
    if (!this.listening) void this.listen()
    else if (this.failed) this.wake()
  }

  private listen(): Promise<void> {
    this.listenAttempt ??= (async () => {
      const disconnects = this.disconnects
      try {
        await this.options.listenSql.unsafe(`LISTEN ${CHANGES_CHANNEL}`)
        // Had the connection closed meanwhile, the next tick listens again (LISTEN is idempotent).
        this.listening = !this.closed && this.disconnects === disconnects
        // Whatever committed while nobody listened is in the table.
        this.wake()
      } catch {
        this.listening = false
      } finally {
        this.listenAttempt = undefined
      }
    })()
    return this.listenAttempt
  }

  private async pump(): Promise<void> {
    this.pumping = true
    try {
      do {
        this.pumpAgain = false
        await this.catchUp()
      } while (this.pumpAgain && !this.closed)
      this.failed = false
    } catch {
      // The database is away; the timer tries again, and LISTEN's return triggers a catch-up.
      this.failed = true
    } finally {
      this.pumping = false
    }
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      if (this.closed) return
      if (this.subscribers.size === 0) {
        const [state] = await this.options.sql<{ revision: string }[]>`SELECT revision FROM store_state`
        // Someone may have subscribed while we waited; then read their events instead.
        if (this.subscribers.size > 0) continue
        this.delivered = Math.max(this.delivered, Number(state?.revision ?? 0))
        return
      }
      const after = this.delivered
      const rows = await this.options.sql<EventRow[]>`
        SELECT s.revision AS current,
               greatest(s.compacted_through, s.revision - ${this.options.historySize}, 0) AS compacted_through,
               e.type, e.body::text, e.revision, e.rollback_of, e.rollout
        FROM store_state s
        LEFT JOIN LATERAL (
          SELECT type, body, revision, rollback_of, rollout FROM events WHERE revision > ${after} ORDER BY revision LIMIT ${PAGE_SIZE}
        ) e ON true
        ORDER BY e.revision`
      if (this.closed || this.delivered !== after) return
      const compactedThrough = Number(rows[0]?.compacted_through ?? 0)
      if (compactedThrough > after) {
        this.dropEveryone(new HistoryCompactedError(after, compactedThrough))
        // Whoever subscribes from now on starts from the present, not from the hole.
        this.delivered = Number(rows[0]?.current ?? compactedThrough)
        return
      }
      let count = 0
      for (const row of rows) {
        if (row.revision === null) continue
        const event: ChangeEvent = {
          type: row.type,
          config: JSON.parse(row.body ?? 'null') as Config,
          revision: Number(row.revision),
          ...(row.body === null ? {} : { json: row.body }),
          ...(row.rollback_of === null ? {} : { rollbackOf: Number(row.rollback_of) }),
          ...(row.rollout === null ? {} : { rollout: row.rollout }),
        }
        this.delivered = event.revision
        this.dispatch(event)
        count++
      }
      if (count < PAGE_SIZE) {
        // Caught up with the statement's snapshot: revisions up to `current` without an event
        // (schema writes) are passed too, and a reader waiting for one of them may go on.
        const current = Number(rows[0]?.current ?? 0)
        if (current > this.delivered) this.progressed(current)
        return
      }
    }
  }

  private progressed(revision: number): void {
    this.delivered = revision
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber.onProgress?.(revision)
      } catch {
        // As for events: one subscriber's failure is its own.
      }
    }
  }

  private dispatch(event: ChangeEvent): void {
    for (const subscriber of [...this.subscribers]) {
      // One that unsubscribed during this dispatch gets nothing more.
      if (!this.subscribers.has(subscriber)) continue
      try {
        subscriber.listener(event)
      } catch {
        // A failing watcher must never stop the others.
      }
    }
  }

  /**
   * This handle fell further behind than the kept history (its database link was down while
   * others wrote a lot): it cannot hand out the missing changes, so it ends every subscription
   * and says why, rather than deliver a stream with a hole in it.
   */
  private dropEveryone(error: HistoryCompactedError): void {
    const subscribers = [...this.subscribers]
    this.subscribers.clear()
    for (const subscriber of subscribers) {
      try {
        subscriber.onLost?.(error)
      } catch {
        // As in dispatch.
      }
    }
  }
}

type EventRow = {
  current: string
  compacted_through: string
  type: ChangeType
  body: string | null
  revision: string | null
  rollback_of: string | null
  rollout: string | null
}
