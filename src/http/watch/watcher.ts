/**
 * One watch stream. The hub hands it each store event (after the write that made it, never on
 * the writer's path) with the event's frame bytes, made once for every watcher that sends the
 * same event (see frames.ts). A watcher whose client keeps up gets the bytes handed straight to
 * its stream; one whose stream is full queues them until the server pulls again (a client that
 * stops reading stops the pulling). The queue is bounded: a watcher more than `bufferEvents`
 * behind is sent a final ERROR event and closed, and nobody else waits for it.
 */

import type { ChangeEvent } from '../../configs/config-store.ts'
import { WatchView } from '../../configs/watch-view.ts'
import { problem } from '../problem.ts'
import { frameOf } from './frames.ts'
import { sseComment, sseEvent } from './sse.ts'
import { type WatchStream, type WatchStreamKind, watchStream } from './watch-stream.ts'

export interface WatcherOptions {
  /** `direct` where the runtime has Bun's direct streams (see watch-stream.ts); standard by default. */
  streamKind?: WatchStreamKind
  heartbeatMs: number
  bufferEvents: number
  /** Told when a watcher is dropped for falling behind, with the last revision it was sent. */
  onFellBehind?: (lastSent: number) => void
}

/** Frames per chunk handed to the server when a burst is queued: fewer, larger writes. */
const BATCH = 256
const encoder = new TextEncoder()
const HEARTBEAT = encoder.encode(sseComment('heartbeat'))

/** Frames waiting for the stream, with the revision of each (for `sent`). */
class FrameQueue {
  frames: Uint8Array[] = []
  revisions: number[] = []

  get length(): number {
    return this.frames.length
  }

  push(frame: Uint8Array, revision: number): void {
    this.frames.push(frame)
    this.revisions.push(revision)
  }

  clear(): void {
    this.frames = []
    this.revisions = []
  }
}

export class Watcher {
  private readonly output: WatchStream
  private state: 'starting' | 'live' | 'ended' = 'starting'
  private view = WatchView.unfiltered()
  /** Live events that arrived while the history was being read. */
  private early: ChangeEvent[] = []
  private readonly replay = new FrameQueue()
  private readonly live = new FrameQueue()
  /** Highest revision taken into the queues: anything at or below it is a duplicate. */
  private queuedUpTo = 0
  /** Highest revision handed to the stream, named in the final ERROR so the client can resume. */
  private sent = 0
  private fellBehind = false
  private heartbeatDue = false
  private readonly heartbeat: ReturnType<typeof setInterval>
  private readonly cleanups: (() => void)[] = []

  constructor(private readonly options: WatcherOptions) {
    this.output = watchStream(options.streamKind ?? 'standard', {
      onRoom: () => this.drain(),
      onCancel: () => this.end(),
    })
    this.heartbeat = setInterval(() => {
      this.heartbeatDue = true
      this.drain()
    }, options.heartbeatMs)
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

  /** Every committed change, in revision order (the hub calls this after the write). */
  receive(event: ChangeEvent): void {
    if (this.state === 'starting') {
      if (this.early.length >= this.options.bufferEvents) this.fellBehind = true
      else this.early.push(event)
      return
    }
    if (this.state === 'live') this.enqueue(event, this.live)
  }

  /**
   * Goes live from revision `from`: `history` (the kept events after it) is sent first, then
   * whatever arrived meanwhile, skipping revisions already covered: no gap and no duplicate.
   */
  start(view: WatchView, from: number, history: ChangeEvent[]): void {
    if (this.state === 'ended') return
    this.view = view
    this.queuedUpTo = from
    this.sent = from
    for (const event of history) this.enqueue(event, this.replay)
    this.state = 'live'
    for (const event of this.early.splice(0)) this.enqueue(event, this.live)
    this.heartbeatDue = true // an immediate first chunk sends the response headers through proxies
    if (this.fellBehind) this.fallBehind()
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
    this.early = []
    this.replay.clear()
    this.live.clear()
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    this.output.finish(typeof final === 'string' ? encoder.encode(final) : final)
  }

  /** The store cannot deliver without a gap (see ConfigStore.subscribe): the client must list again. */
  lost(error: Error): void {
    const detail = `${error.message}; this watch cannot continue without a gap: list again, then watch`
    this.end(sseEvent('ERROR', JSON.stringify(problem(410, 'gone', detail))))
  }

  private enqueue(event: ChangeEvent, queue: FrameQueue): void {
    if (this.state === 'ended' || event.revision <= this.queuedUpTo) return
    this.queuedUpTo = event.revision
    const visible = this.view.see(event)
    if (visible === undefined) return
    const frame = frameOf(event, visible.type)
    // A client that keeps up gets the shared bytes at once, with nothing queued before them.
    if (
      queue === this.live &&
      this.state === 'live' &&
      this.replay.length === 0 &&
      this.live.length === 0 &&
      !this.heartbeatDue &&
      this.output.room()
    ) {
      this.output.send(frame)
      this.sent = event.revision
      return
    }
    queue.push(frame, event.revision)
    if (queue === this.live && this.live.length > this.options.bufferEvents) this.fallBehind()
  }

  private fallBehind(): void {
    if (this.state === 'ended') return
    const detail =
      `this watcher fell more than ${this.options.bufferEvents} events behind and was closed; ` +
      `watch again with since=${this.sent}, or list again if that answers 410`
    this.end(sseEvent('ERROR', JSON.stringify(problem(410, 'watch-fell-behind', detail))))
    this.options.onFellBehind?.(this.sent)
  }

  /** Hands the stream what is queued, when it has room (the server pulls when it has). */
  private drain(): void {
    while (
      this.state === 'live' &&
      this.output.room() &&
      (this.heartbeatDue || this.replay.length > 0 || this.live.length > 0)
    ) {
      this.output.send(this.take(BATCH))
    }
  }

  /** Up to `max` queued frames (replay first), after a heart-beat when one is due, as one chunk. */
  private take(max: number): Uint8Array {
    const parts: Uint8Array[] = []
    if (this.heartbeatDue) {
      this.heartbeatDue = false
      parts.push(HEARTBEAT)
    }
    let count = 0
    for (const queue of [this.replay, this.live]) {
      if (count >= max || queue.length === 0) continue
      const n = Math.min(max - count, queue.length)
      parts.push(...queue.frames.splice(0, n))
      this.sent = queue.revisions.splice(0, n).at(-1) ?? this.sent
      count += n
    }
    return parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts)
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
