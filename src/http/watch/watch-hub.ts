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
 * the watcher's budget (configs/watch/watcher.ts). A watcher that falls too far behind, or whose client
 * reads nothing while its replay waits, gets a final `event: ERROR` whose data is a problem+json
 * object, and the stream ends.
 *
 * The hub counts open streams (`connected`, for the watchers gauge) and ends them all on
 * shutdown (`closeAll`), after which new watches are refused with 503.
 */

import type { SchemaFeedAccess } from '../../configs/authorized-schemas.ts'
import type { ConfigStore } from '../../configs/config-store.ts'
import { type RolloutWatch, rolloutWatchStart } from '../../configs/rollouts/rollout-watch.ts'
import { ChangeFanOut } from '../../configs/watch/change-fan-out.ts'
import type { WatchedEvent } from '../../configs/watch/early-events.ts'
import { schemaWatchStart, type WatchStart, watchStart } from '../../configs/watch/watch-start.ts'
import { ProblemError } from '../problem.ts'
import { CONFIG_FRAMING, SCHEMA_FRAMING, type WatchFraming } from './frames.ts'
import { ROLLOUT_FRAMING } from './rollout-frames.ts'
import { SSE_HEADERS } from './sse.ts'
import { SseWatch, type SseWatchOptions } from './sse-watch.ts'
import type { WatchRequest } from './watch-query.ts'

export interface WatchOptions extends SseWatchOptions {
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
  private readonly watchers = new Set<Pick<SseWatch<WatchedEvent>, 'heldBytes' | 'close'>>()
  /** The store's changes for the config watchers: the connected ones and those still starting. */
  private readonly changes: ChangeFanOut
  private closing = false

  constructor(
    private readonly store: ConfigStore,
    private readonly options: WatchOptions = DEFAULT_WATCH_OPTIONS,
  ) {
    this.changes = new ChangeFanOut(store)
  }

  /** Watch streams open right now. */
  connected(): number {
    return this.watchers.size
  }

  /** Bytes the open streams hold for their clients (see SseWatch.heldBytes). */
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
    const sse = new SseWatch(this.options, CONFIG_FRAMING)
    // Before the start reads the history: nothing committed in between is lost.
    sse.onEnd(this.changes.add(sse.watcher))
    try {
      const { view, from, readChanges, replay } = await watchStart(this.store, request)
      await sse.start(view, from, readChanges, replay)
      this.refuseWhileClosing()
    } catch (error) {
      sse.end()
      throw error
    }
    return this.respond(sse, http, headOnly)
  }

  /**
   * A schema watch (`GET /schemas?watch=true`): every schema write, from `since` (replayed from
   * the schema history) or from now, then live. Each stream subscribes to the schema feed (which
   * reads the store once per change for all of them), before it reads the history.
   */
  async openSchemas(feed: SchemaFeedAccess, since?: number, http?: Request, headOnly = false): Promise<Response> {
    return this.openFed(SCHEMA_FRAMING, feed, () => schemaWatchStart(feed, since), http, headOnly)
  }

  /**
   * A rollout watch (`GET /rollouts?watch=true`): the events of the rollouts the caller may read,
   * from `since` (replayed from the rollout event log) or from now, then live, as a schema watch.
   */
  async openRollouts(watch: RolloutWatch, since?: number, http?: Request, headOnly = false): Promise<Response> {
    return this.openFed(ROLLOUT_FRAMING, watch, () => rolloutWatchStart(watch, since), http, headOnly)
  }

  /** A watch with a feed of its own (schemas, rollouts): subscribed to it before its start reads the history. */
  private async openFed<E extends WatchedEvent>(
    framing: WatchFraming<E>,
    feed: { subscribe(listener: (event: E) => void, onLost: (error: Error) => void): Promise<() => void> },
    start: () => Promise<WatchStart<E>>,
    http: Request | undefined,
    headOnly: boolean,
  ): Promise<Response> {
    this.refuseWhileClosing()
    const sse = new SseWatch(this.options, framing)
    try {
      const unsubscribe = await feed.subscribe(
        (event) => sse.watcher.receive(event),
        (error) => sse.watcher.lost(error),
      )
      sse.onEnd(unsubscribe)
      const { view, from, readChanges, replay } = await start()
      await sse.start(view, from, readChanges, replay)
      this.refuseWhileClosing()
    } catch (error) {
      sse.end()
      throw error
    }
    return this.respond(sse, http, headOnly)
  }

  private respond<E extends WatchedEvent>(sse: SseWatch<E>, http: Request | undefined, headOnly: boolean) {
    if (headOnly) {
      sse.end()
      return new Response(null, { status: 200, headers: SSE_HEADERS })
    }
    if (!sse.ended) {
      this.watchers.add(sse)
      sse.onEnd(() => this.watchers.delete(sse))
      if (http && this.options.holdOpen) sse.onEnd(this.options.holdOpen(http))
    }
    // The stream's cancel covers most disconnects; the signal covers runtimes that only abort.
    const signal = http?.signal
    signal?.addEventListener('abort', () => sse.end(), { once: true })
    if (signal?.aborted) sse.end()
    return new Response(sse.stream, { status: 200, headers: SSE_HEADERS })
  }

  /** Ends every stream after what it has queued, and refuses new ones from now on. */
  async closeAll(): Promise<void> {
    this.closing = true
    // Changes acknowledged before the shutdown are still sent.
    this.changes.flush()
    for (const sse of [...this.watchers]) sse.close()
  }

  private refuseWhileClosing(): void {
    if (this.closing) {
      throw new ProblemError(503, 'shutting-down', 'this instance is shutting down; watch again', undefined, {
        'retry-after': '1',
      })
    }
  }
}
