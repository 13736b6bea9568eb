/**
 * The watch API: `GET /configs?watch=true[&since=<revision>]` as server-sent events, on top of
 * the store's change stream (so on PostgreSQL a watcher sees writes made through any replica).
 *
 *   event: MODIFIED
 *   id: 42
 *   data: {"type":"MODIFIED","revision":42,"config":{"dcname":"dc-1","metadata":{...}}}
 *
 * Types are ADDED, MODIFIED and DELETED (with the config's last state), in revision order, and
 * `: heartbeat` comments every `heartbeatMs`. A replay reads the history a page at a time, within
 * the watcher's budget (see watcher.ts). A watcher that falls too far behind, or whose client
 * reads nothing while its replay waits, gets a final `event: ERROR` whose data is a problem+json
 * object, and the stream ends.
 *
 * The hub counts open streams (`connected`, for the watchers gauge) and ends them all on
 * shutdown (`closeAll`), after which new watches are refused with 503.
 */

import { setImmediate } from 'node:timers'
import type { SchemaFeedAccess } from '../../configs/authorized-schemas.ts'
import type { ChangeEvent, ConfigStore } from '../../configs/config-store.ts'
import { type RolloutWatch, rolloutWatchStart } from '../../configs/rollouts/rollout-watch.ts'
import type { WatchedEvent } from '../../configs/watch/early-events.ts'
import { schemaWatchStart, watchStart } from '../../configs/watch/watch-start.ts'
import { ProblemError } from '../problem.ts'
import { CONFIG_FRAMING, SCHEMA_FRAMING } from './frames.ts'
import { ROLLOUT_FRAMING } from './rollout-frames.ts'
import { SSE_HEADERS } from './sse.ts'
import type { WatchRequest } from './watch-query.ts'
import { Watcher, type WatcherOptions } from './watcher.ts'

export interface WatchOptions extends WatcherOptions {
  /**
   * Called with the HTTP request of each stream as it starts; returns what to call when the
   * stream ends. The Bun entry point lifts the server's idle timeout for the stream there (see
   * main.ts); runtimes without such a timeout leave it out.
   */
  holdOpen?: (request: Request) => () => void
}

export const DEFAULT_WATCH_OPTIONS: WatchOptions = {
  heartbeatMs: 15_000,
  bufferEvents: 1000,
  bufferBytes: 4 * 1024 * 1024,
}

export class WatchHub {
  private readonly watchers = new Set<Pick<Watcher<WatchedEvent>, 'heldBytes' | 'close'>>()
  /** Watchers that hear of changes: the connected ones and those still starting. */
  private readonly listening = new Set<Watcher<ChangeEvent>>()
  private unsubscribe: (() => void) | undefined
  /** Changes not yet handed to the watchers (see `arrived`). */
  private arrivals: ChangeEvent[] = []
  private closing = false

  constructor(
    private readonly store: ConfigStore,
    private readonly options: WatchOptions = DEFAULT_WATCH_OPTIONS,
  ) {}

  /** Watch streams open right now. */
  connected(): number {
    return this.watchers.size
  }

  /** Bytes the open streams hold for their clients (see Watcher.heldBytes). */
  heldBytes(): number {
    let bytes = 0
    for (const watcher of this.watchers) bytes += watcher.heldBytes()
    return bytes
  }

  /**
   * Opens a stream. Subscribes before reading the history, so nothing committed in between is
   * lost; the watcher drops what the history already covered. Fails before any byte is sent
   * (so with a proper status) when `since` is too old (HistoryCompactedError, 410) or the
   * store is down. `headOnly` (HEAD) answers what GET would, without the never-ending body.
   * `http` is the HTTP request that asked (left out in tests that read the stream directly).
   */
  async open(request: WatchRequest, http?: Request, headOnly = false): Promise<Response> {
    this.refuseWhileClosing()
    const watcher = new Watcher(this.options, CONFIG_FRAMING)
    this.listen(watcher)
    try {
      const { view, from, readChanges, replay } = await watchStart(this.store, request)
      await watcher.start(view, from, readChanges, replay)
      this.refuseWhileClosing()
    } catch (error) {
      watcher.end()
      throw error
    }
    return this.respond(watcher, http, headOnly)
  }

  /**
   * A schema watch (`GET /schemas?watch=true`): every schema write, from `since` (replayed from
   * the schema history) or from now, then live. Each watcher subscribes to the schema feed (which
   * reads the store once per change for all of them), before it reads the history.
   */
  async openSchemas(feed: SchemaFeedAccess, since?: number, http?: Request, headOnly = false): Promise<Response> {
    this.refuseWhileClosing()
    const watcher = new Watcher(this.options, SCHEMA_FRAMING)
    try {
      const unsubscribe = await feed.subscribe(
        (event) => watcher.receive(event),
        (error) => watcher.lost(error),
      )
      watcher.onEnd(unsubscribe)
      const { view, from, readChanges, replay } = await schemaWatchStart(feed, since)
      await watcher.start(view, from, readChanges, replay)
      this.refuseWhileClosing()
    } catch (error) {
      watcher.end()
      throw error
    }
    return this.respond(watcher, http, headOnly)
  }

  /**
   * A rollout watch (`GET /rollouts?watch=true`): the events of the rollouts the caller may read,
   * from `since` (replayed from the rollout event log) or from now, then live, as a schema watch.
   */
  async openRollouts(watch: RolloutWatch, since?: number, http?: Request, headOnly = false): Promise<Response> {
    this.refuseWhileClosing()
    const watcher = new Watcher(this.options, ROLLOUT_FRAMING)
    try {
      const unsubscribe = await watch.subscribe(
        (event) => watcher.receive(event),
        (error) => watcher.lost(error),
      )
      watcher.onEnd(unsubscribe)
      const { view, from, readChanges, replay } = await rolloutWatchStart(watch, since)
      await watcher.start(view, from, readChanges, replay)
      this.refuseWhileClosing()
    } catch (error) {
      watcher.end()
      throw error
    }
    return this.respond(watcher, http, headOnly)
  }

  private respond<E extends WatchedEvent>(watcher: Watcher<E>, http: Request | undefined, headOnly: boolean) {
    if (headOnly) {
      watcher.end()
      return new Response(null, { status: 200, headers: SSE_HEADERS })
    }
    if (!watcher.ended) {
      this.watchers.add(watcher)
      watcher.onEnd(() => this.watchers.delete(watcher))
      if (http && this.options.holdOpen) watcher.onEnd(this.options.holdOpen(http))
    }
    // The stream's cancel covers most disconnects; the signal covers runtimes that only abort.
    const signal = http?.signal
    signal?.addEventListener('abort', () => watcher.end(), { once: true })
    if (signal?.aborted) watcher.end()
    return new Response(watcher.stream, { status: 200, headers: SSE_HEADERS })
  }

  /** Ends every stream after what it has queued, and refuses new ones from now on. */
  async closeAll(): Promise<void> {
    this.closing = true
    // Changes acknowledged before the shutdown are still sent.
    this.fanOut()
    for (const watcher of [...this.watchers]) watcher.close()
  }

  /**
   * One subscription to the store for every watcher, held while any listens: a watcher hears of
   * every change from the moment it is added (before its start reads the history).
   */
  private listen(watcher: Watcher<ChangeEvent>): void {
    this.listening.add(watcher)
    watcher.onEnd(() => {
      this.listening.delete(watcher)
      if (this.listening.size === 0) this.stopListening()
    })
    this.unsubscribe ??= this.store.subscribe(
      (event) => this.arrived(event),
      (error) => {
        // The subscription is gone with every watcher on it; the next watch subscribes anew.
        this.unsubscribe = undefined
        this.arrivals = []
        for (const lost of [...this.listening]) lost.lost(error)
      },
    )
  }

  private stopListening(): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    this.arrivals = []
  }

  /**
   * The store tells of a change on the writer's path (SQLite: in the commit, before the write is
   * acknowledged): it is only noted there, and handed to every watcher in the next turn, after
   * the writes' answers went out. Each event's frame is made once for all (frames.ts).
   */
  private arrived(event: ChangeEvent): void {
    if (this.arrivals.push(event) === 1) setImmediate(() => this.fanOut())
  }

  private fanOut(): void {
    const events = this.arrivals
    this.arrivals = []
    if (events.length === 0) return
    // Several at once (a burst, or a replica behind): each watcher writes them together.
    for (const watcher of this.listening) watcher.receiveAll(events)
  }

  private refuseWhileClosing(): void {
    if (this.closing) {
      throw new ProblemError(503, 'shutting-down', 'this instance is shutting down; watch again', undefined, {
        'retry-after': '1',
      })
    }
  }
}
