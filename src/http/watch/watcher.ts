/**
 * One watch stream. The hub hands it each store event (after the write that made it, never on
 * the writer's path) with the event's frame bytes, made once for every watcher that sends the
 * same event (see frames.ts). A watcher whose client keeps up gets the bytes handed straight to
 * its stream; one whose stream is full queues them until the server pulls again.
 *
 * What it holds (queued, or handed to the stream and not yet taken by the server) is bounded by
 * `bufferEvents` and `bufferBytes`. Live, an event that does not fit drops the watcher with a
 * final ERROR event (a frame larger than the whole budget still goes when nothing else is held).
 * A replay (`since`) reads the history a page at a time, sized to the room left, once the
 * watcher holds less than half; one whose client takes nothing for a whole heart-beat interval
 * is dropped the same way. Live events meanwhile wait in `early` within the budget, or are let go
 * and read from the store; the watcher goes live once a page found nothing more and `early`
 * holds every event since that read began (`caughtUp`): no gap, no duplicate.
 */

import { HistoryCompactedError } from '../../configs/config-store.ts'
import { EarlyEvents, type WatchedEvent } from '../../configs/watch/early-events.ts'
import { type EventView, WatchPosition } from '../../configs/watch/watch-position.ts'
import type { ReadChanges } from '../../configs/watch/watch-start.ts'
import { fellBehindEvent, goneEvent, storeUnavailableEvent } from './final-events.ts'
import { FrameQueue } from './frame-queue.ts'
import type { WatchFraming } from './frames.ts'
import { sseComment } from './sse.ts'
import { type WatchStream, type WatchStreamKind, watchStream } from './watch-stream.ts'

export interface WatcherOptions {
  /** `direct` where the runtime has Bun's direct streams (see watch-stream.ts); standard by default. */
  streamKind?: WatchStreamKind
  heartbeatMs: number
  bufferEvents: number
  bufferBytes: number
  /** Told when a watcher is dropped for falling behind, with the last revision it was sent. */
  onFellBehind?: (lastSent: number) => void
}

/** Frames per chunk handed to the server when a burst is queued: fewer, larger writes. */
const BATCH = 256
/** Events and stored bytes per page of a replay, at most: a page is parsed whole at once. */
const PAGE_EVENTS = 256
const PAGE_BYTES = 256 * 1024
const encoder = new TextEncoder()
const HEARTBEAT = encoder.encode(sseComment('heartbeat'))

/** A config watch's (ChangeEvent) or a schema watch's (SchemaChangeEvent): `framing` says which. */
export class Watcher<E extends WatchedEvent> {
  private readonly output: WatchStream
  private state: 'starting' | 'replaying' | 'live' | 'ended' = 'starting'
  /** Where the watch stands: every event is taken in once, in revision order (see WatchPosition). */
  private order = new WatchPosition<E>()
  private readChanges: ReadChanges<E> | undefined
  private readonly early: EarlyEvents<E>
  private reading = false
  /** In `receiveAll`: frames are held until the last of them, then written together. */
  private batching = false
  private readonly queue = new FrameQueue()
  /** Frames of the last page that did not fit the budget yet (a config larger than the room left). */
  private readonly pending = new FrameQueue()
  /** Highest revision handed to the stream, named in the final ERROR so the client can resume. */
  private sent = 0
  private heartbeatDue = false
  /** The stream's `taken()` at the last heart-beat, to tell a client that reads nothing. */
  private takenAtTick = 0
  private readonly heartbeat: ReturnType<typeof setInterval>
  private readonly cleanups: (() => void)[] = []

  constructor(
    private readonly options: WatcherOptions,
    private readonly framing: WatchFraming<E>,
  ) {
    this.early = new EarlyEvents(framing.earlyBytes)
    this.output = watchStream(options.streamKind ?? 'standard', {
      onRoom: () => this.drain(),
      onCancel: () => this.end(),
    })
    this.heartbeat = setInterval(() => this.tick(), options.heartbeatMs)
  }

  /** The response body. */
  get stream(): ReadableStream<Uint8Array> {
    return this.output.body
  }

  /** Runs once the watcher ends, however it ends (client gone, fell behind, shutdown). */
  onEnd(cleanup: () => void): void {
    if (this.state === 'ended') cleanup()
    else this.cleanups.push(cleanup)
  }

  get ended(): boolean {
    return this.state === 'ended'
  }

  /** Bytes held for the client: queued, and handed to the stream but not yet taken. */
  heldBytes(): number {
    return this.state === 'ended' ? 0 : this.queue.bytes + this.output.unread()
  }

  /** Every committed change, in revision order (the hub calls this after the write). */
  receive(event: E): void {
    if (this.state === 'live') this.enqueue(event)
    else if (this.state !== 'ended' && event.revision > this.order.revision) {
      this.early.add(event)
      if (!this.earlyFits()) this.early.letGo()
    }
  }

  /** Changes that arrived together: a live watcher writes them as one chunk, within the budget. */
  receiveAll(events: readonly E[]): void {
    if (this.state !== 'live' || events.length === 1) {
      for (const event of events) this.receive(event)
      return
    }
    this.batching = true
    for (const event of events) {
      if (this.state !== 'live') break
      this.enqueue(event)
    }
    this.batching = false
    this.drain()
  }

  /**
   * Starts after revision `from`: reads the kept history after it first when `replay` (or when
   * live events came faster than the start could hold them), then goes live with what arrived
   * meanwhile. Fails, before any byte is sent, when the first page cannot be read.
   */
  async start(view: EventView<E>, from: number, readChanges: ReadChanges<E>, replay: boolean): Promise<void> {
    if (this.state === 'ended') return
    this.order = new WatchPosition(view, from)
    this.readChanges = readChanges
    this.sent = from
    this.state = 'replaying'
    this.heartbeatDue = true // an immediate first chunk sends the response headers through proxies
    // Without a replay, `early` holds every event since the hub subscribed, which was before
    // it read `from`: unless it was let go, nothing after `from` is missing.
    if (replay || this.early.overflows > 0) await this.readPage()
    else this.early.caughtUp = true
    this.drain()
  }

  /** Ends the stream after what is queued (graceful shutdown). */
  close(): void {
    if (this.state === 'ended') return
    this.end(this.take(Number.POSITIVE_INFINITY))
  }

  /** Ends the stream; `final` is written before the end unless the client is already gone. */
  end(final?: Uint8Array | string): void {
    if (this.state === 'ended') return
    this.state = 'ended'
    clearInterval(this.heartbeat)
    this.early.takeAll()
    this.queue.clear()
    this.pending.clear()
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    this.output.finish(typeof final === 'string' ? encoder.encode(final) : final)
  }

  /** The store cannot deliver without a gap (see ConfigStore.subscribe): the client must list again. */
  lost(error: Error): void {
    this.end(goneEvent(error))
  }

  private enqueue(event: E): void {
    const visible = this.order.take(event)
    if (visible === undefined) return
    const frame = this.framing.frame(event, visible)
    // In a batch, frames wait for the last one (same turn); one that does not fit sends those first.
    if (this.batching) {
      if (this.fits(frame.length)) {
        this.queue.push(frame, event.revision)
        return
      }
      this.drain()
    }
    // A client that keeps up gets the shared bytes at once, with nothing queued before them.
    if (this.queue.length === 0 && !this.heartbeatDue && this.output.room()) {
      this.output.send(frame)
      this.sent = event.revision
      return
    }
    if (this.fits(frame.length)) this.queue.push(frame, event.revision)
    else this.fallBehind(false)
  }

  /** True when a frame of `bytes` can be queued within the budget. */
  private fits(bytes: number): boolean {
    if (this.queue.length >= this.options.bufferEvents) return false
    const held = this.heldBytes()
    return held === 0 || held + bytes <= this.options.bufferBytes
  }

  private earlyFits(): boolean {
    return (
      this.queue.length + this.pending.length + this.early.length <= this.options.bufferEvents &&
      this.heldBytes() + this.pending.bytes + this.early.bytes <= this.options.bufferBytes
    )
  }

  /** Reads the next page of the replay, sized to the room left in the budget, and takes it in. */
  private async readPage(): Promise<void> {
    const begun = this.early.readBegins()
    const limit = Math.max(1, Math.min(PAGE_EVENTS, this.options.bufferEvents - this.queue.length))
    // Stored bytes count an event's previous state too: a page about fits, the rest waits in `pending`.
    const room = Math.max(1, Math.min(PAGE_BYTES, this.options.bufferBytes - this.heldBytes()))
    this.reading = true
    let page: Awaited<ReturnType<ReadChanges<E>>>
    try {
      page = await (this.readChanges as ReadChanges<E>)(this.order.revision, limit, room)
    } finally {
      this.reading = false
    }
    if (this.state === 'ended') return
    for (const event of page.events) {
      const visible = this.order.take(event)
      if (visible !== undefined) this.pending.push(this.framing.frame(event, visible), event.revision)
    }
    this.admit()
    this.early.pageRead(this.order.revision, page.more, begun)
  }

  /** Moves the page's frames into the queue as far as the budget allows. */
  private admit(): void {
    while (this.pending.length > 0 && this.fits(this.pending.firstBytes)) this.pending.moveFirstTo(this.queue)
  }

  /** Reads the next page when there is room for one, or goes live once the replay caught up. */
  private advanceReplay(): void {
    this.admit()
    if (this.reading || this.pending.length > 0) return
    if (this.early.caughtUp && this.goLive()) {
      this.drain()
      return
    }
    const { bufferBytes, bufferEvents } = this.options
    if (this.heldBytes() <= bufferBytes / 2 && this.queue.length <= bufferEvents / 2) void this.continueReplay()
  }

  private async continueReplay(): Promise<void> {
    try {
      await this.readPage()
    } catch (error) {
      // The stream ends saying what the client can do (a first page's failure is the hub's).
      if (error instanceof HistoryCompactedError) this.lost(error)
      else this.end(storeUnavailableEvent(this.sent))
      return
    }
    this.drain()
  }

  /** Queues what arrived during the replay, if it fits the budget; else the replay reads on. */
  private goLive(): boolean {
    if (!this.earlyFits()) {
      this.early.letGo()
      return false
    }
    this.state = 'live'
    for (const event of this.early.takeAll()) this.enqueue(event)
    return true
  }

  private tick(): void {
    const taken = this.output.taken()
    const stalled = taken === this.takenAtTick
    this.takenAtTick = taken
    // The replay waits for room that a client reading nothing never makes.
    if (this.state === 'replaying' && !this.reading && stalled && this.heldBytes() > 0) this.fallBehind(true)
    else {
      this.heartbeatDue = true
      this.drain()
    }
  }

  private fallBehind(stalled: boolean): void {
    if (this.state === 'ended') return
    this.end(fellBehindEvent(this.options, this.sent, stalled))
    this.options.onFellBehind?.(this.sent)
  }

  /** Hands the stream what is queued, when it has room (the server pulls when it has). */
  private drain(): void {
    if (this.state === 'starting' || this.state === 'ended') return
    while (this.output.room() && (this.heartbeatDue || this.queue.length > 0)) {
      this.output.send(this.take(BATCH))
      if (this.state === 'replaying') this.admit()
    }
    if (this.state === 'replaying') this.advanceReplay()
  }

  /** Up to `max` queued frames, after a heart-beat when one is due, as one chunk. */
  private take(max: number): Uint8Array {
    const heartbeat = this.heartbeatDue ? HEARTBEAT : undefined
    this.heartbeatDue = false
    const { chunk, last } = this.queue.take(max, heartbeat)
    this.sent = last ?? this.sent
    return chunk
  }
}
