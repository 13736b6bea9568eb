/**
 * One watch stream: the domain's watcher (configs/watch/watcher.ts) decides which events go and
 * when; this side makes their frames, holds them until the server pulls, and sends heart-beats
 * and the final ERROR event. Each event's frame bytes are made once for every stream that sends
 * the same event (see frames.ts). A client that keeps up gets a live event's bytes handed straight
 * to its stream; one whose stream is full gets them queued until the server pulls again. Live
 * events that arrived together (a burst, or a replica that was behind) are queued until the last
 * of them and written as one chunk, so the client is written to once per turn, not per event.
 *
 * What it holds (queued, or handed to the stream and not yet taken by the server) is what the
 * watcher's budget of `bufferEvents` and `bufferBytes` counts, in frame bytes. A replay's client
 * that takes nothing for a whole heart-beat interval while the replay waits for room is dropped.
 */

import type { WatchedEvent } from '../../configs/watch/early-events.ts'
import type { EventView } from '../../configs/watch/watch-position.ts'
import type { ReadChanges } from '../../configs/watch/watch-start.ts'
import { Watcher, type WatchSink } from '../../configs/watch/watcher.ts'
import { fellBehindEvent, goneEvent, storeUnavailableEvent } from './final-events.ts'
import { FrameQueue } from './frame-queue.ts'
import type { WatchFraming } from './frames.ts'
import { sseComment } from './sse.ts'
import { type WatchStream, type WatchStreamKind, watchStream } from './watch-stream.ts'

export interface SseWatchOptions {
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
const encoder = new TextEncoder()
const HEARTBEAT = encoder.encode(sseComment('heartbeat'))

/** A config watch's (ChangeEvent), a schema watch's or a rollout watch's: `framing` says which. */
export class SseWatch<E extends WatchedEvent> implements WatchSink<E> {
  /** Takes the store's events in (`receive`, `lost`) and decides what this stream sends. */
  readonly watcher: Watcher<E>
  private readonly output: WatchStream
  private closed = false
  private readonly queue = new FrameQueue()
  /** Highest revision handed to the stream, named in the final ERROR so the client can resume. */
  private sent = 0
  private heartbeatDue = false
  /** In `together`: live events are queued, not sent at once, until the last of them. */
  private batching = false
  /** The stream's `taken()` at the last heart-beat, to tell a client that reads nothing. */
  private takenAtTick = 0
  private readonly heartbeat: ReturnType<typeof setInterval>
  private readonly cleanups: (() => void)[] = []

  constructor(
    private readonly options: SseWatchOptions,
    private readonly framing: WatchFraming<E>,
  ) {
    const sizes = { of: (event: E, shown: E) => framing.frame(event, shown).length, early: framing.earlyBytes }
    this.watcher = new Watcher({ events: options.bufferEvents, size: options.bufferBytes }, sizes, this)
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

  /** Runs once the stream ends, however it ends (client gone, fell behind, shutdown). */
  onEnd(cleanup: () => void): void {
    if (this.closed) cleanup()
    else this.cleanups.push(cleanup)
  }

  get ended(): boolean {
    return this.closed
  }

  /** Bytes held for the client: queued, and handed to the stream but not yet taken. */
  heldBytes(): number {
    return this.closed ? 0 : this.queue.bytes + this.output.unread()
  }

  /** Starts the watcher (see Watcher.start), then sends; fails before any byte is sent. */
  async start(view: EventView<E>, from: number, readChanges: ReadChanges<E>, replay: boolean): Promise<void> {
    if (this.closed) return
    this.sent = from
    this.heartbeatDue = true // an immediate first chunk sends the response headers through proxies
    await this.watcher.start(view, from, readChanges, replay)
    this.drain()
  }

  /** Ends the stream after what is queued (graceful shutdown). */
  close(): void {
    if (this.closed) return
    this.end(this.take(Number.POSITIVE_INFINITY))
  }

  /** Ends the stream; `final` is written before the end unless the client is already gone. */
  end(final?: Uint8Array | string): void {
    if (this.closed) return
    this.closed = true
    this.watcher.end()
    clearInterval(this.heartbeat)
    this.queue.clear()
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    this.output.finish(typeof final === 'string' ? encoder.encode(final) : final)
  }

  // What the watcher hands this stream (WatchSink).

  heldEvents(): number {
    return this.queue.length
  }

  heldSize(): number {
    return this.heldBytes()
  }

  sendAtOnce(event: E, shown: E): boolean {
    // A client that keeps up gets the shared bytes at once, with nothing queued before them.
    if (this.batching || this.queue.length > 0 || this.heartbeatDue || !this.output.room()) return false
    this.output.send(this.framing.frame(event, shown))
    this.sent = event.revision
    return true
  }

  hold(event: E, shown: E): void {
    this.queue.push(this.framing.frame(event, shown), event.revision)
  }

  together(handOver: () => void): void {
    this.batching = true
    try {
      handOver()
    } finally {
      this.batching = false
    }
    this.drain()
  }

  fellBehind(stalled: boolean): void {
    this.end(fellBehindEvent(this.options, this.sent, stalled))
    this.options.onFellBehind?.(this.sent)
  }

  /** The store cannot deliver without a gap (see ConfigStore.subscribe): the client must list again. */
  lost(error: Error): void {
    this.end(goneEvent(error))
  }

  unavailable(): void {
    this.end(storeUnavailableEvent(this.sent))
  }

  /** Hands the stream what is queued, when it has room (the server pulls when it has). */
  drain(): void {
    if (!this.watcher.running) return
    while (this.output.room() && (this.heartbeatDue || this.queue.length > 0)) {
      this.output.send(this.take(BATCH))
      this.watcher.tookSome()
    }
    this.watcher.tookAll()
  }

  private tick(): void {
    const taken = this.output.taken()
    const stalled = taken === this.takenAtTick
    this.takenAtTick = taken
    // A replay waits for room that a client reading nothing never makes.
    if (stalled && this.heldBytes() > 0 && this.watcher.clientStalled()) return
    this.heartbeatDue = true
    this.drain()
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
