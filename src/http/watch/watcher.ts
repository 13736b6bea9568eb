/**
 * One watch stream. Store events arrive through `receive` on the writer's path, so it only
 * queues; the HTTP server pulls frames out as fast as the client's socket takes them (a pull
 * stream, so a client that stops reading stops the pulling). The queue is bounded: a watcher
 * more than `bufferEvents` behind is sent a final ERROR event and closed, and writers never wait.
 */

import type { ChangeEvent } from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'
import { WatchView } from '../../configs/watch-view.ts'
import { problem } from '../problem.ts'
import { sseComment, sseEvent } from './sse.ts'

export interface WatcherOptions {
  heartbeatMs: number
  bufferEvents: number
  /** Told when a watcher is dropped for falling behind, with the last revision it was sent. */
  onFellBehind?: (lastSent: number) => void
}

/** The `data` of ADDED, MODIFIED and DELETED events. For DELETED, `config` is the last state. */
export interface WatchEventData {
  type: ChangeEvent['type']
  revision: number
  config: Config
}

/** Events per chunk handed to the server: fewer, larger writes when a burst is queued. */
const BATCH = 256
const encoder = new TextEncoder()

export class Watcher {
  readonly stream: ReadableStream<Uint8Array>
  private state: 'starting' | 'live' | 'ended' = 'starting'
  private controller!: ReadableStreamDefaultController<Uint8Array>
  private view = WatchView.unfiltered()
  /** Live events that arrived while the history was being read. */
  private early: ChangeEvent[] = []
  private replay: ChangeEvent[] = []
  private live: ChangeEvent[] = []
  /** Highest revision taken into the queues: anything at or below it is a duplicate. */
  private queuedUpTo = 0
  /** Highest revision handed to the client, named in the final ERROR so it can resume. */
  private sent = 0
  private fellBehind = false
  private heartbeatDue = false
  private readonly heartbeat: ReturnType<typeof setInterval>
  private wake: (() => void) | undefined
  private readonly cleanups: (() => void)[] = []

  constructor(private readonly options: WatcherOptions) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller
        },
        pull: (controller) => this.pull(controller),
        cancel: () => this.end(),
      },
      { highWaterMark: 1 },
    )
    this.heartbeat = setInterval(() => {
      this.heartbeatDue = true
      this.wake?.()
    }, options.heartbeatMs)
  }

  /** Runs once the watcher ends, however it ends (client gone, fell behind, shutdown). */
  onEnd(cleanup: () => void): void {
    if (this.state === 'ended') cleanup()
    else this.cleanups.push(cleanup)
  }

  get ended(): boolean {
    return this.state === 'ended'
  }

  /** The store's listener: called for every committed change, in revision order. */
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
    this.wake?.()
  }

  /** Ends the stream after what is queued (graceful shutdown). */
  close(): void {
    if (this.state === 'ended') return
    const rest = this.take(Number.POSITIVE_INFINITY)
    this.end(rest)
  }

  /** Ends the stream; `final` is written before the end unless the client is already gone. */
  end(final = ''): void {
    if (this.state === 'ended') return
    this.state = 'ended'
    clearInterval(this.heartbeat)
    this.early = []
    this.replay = []
    this.live = []
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    try {
      if (final !== '') this.controller.enqueue(encoder.encode(final))
      this.controller.close()
    } catch {
      // Already cancelled by the client: nothing left to write to.
    }
    this.wake?.()
  }

  private enqueue(event: ChangeEvent, queue: ChangeEvent[]): void {
    if (this.state === 'ended' || event.revision <= this.queuedUpTo) return
    this.queuedUpTo = event.revision
    const visible = this.view.see(event)
    if (visible === undefined) return
    queue.push(visible)
    if (queue === this.live && this.live.length > this.options.bufferEvents) this.fallBehind()
    else this.wake?.()
  }

  /** The store cannot deliver without a gap (see ConfigStore.subscribe): the client must list again. */
  lost(error: Error): void {
    const detail = `${error.message}; this watch cannot continue without a gap: list again, then watch`
    this.end(sseEvent('ERROR', JSON.stringify(problem(410, 'gone', detail))))
  }

  private fallBehind(): void {
    if (this.state === 'ended') return
    const detail =
      `this watcher fell more than ${this.options.bufferEvents} events behind and was closed; ` +
      `watch again with since=${this.sent}, or list again if that answers 410`
    this.end(sseEvent('ERROR', JSON.stringify(problem(410, 'watch-fell-behind', detail))))
    this.options.onFellBehind?.(this.sent)
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      if (this.state === 'ended') return
      if (this.state === 'live') {
        const text = this.take(BATCH)
        if (text !== '') {
          controller.enqueue(encoder.encode(text))
          return
        }
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
      this.wake = undefined
    }
  }

  /** Up to `max` queued events (replay first), plus a heart-beat when one is due. */
  private take(max: number): string {
    let text = ''
    if (this.heartbeatDue) {
      this.heartbeatDue = false
      text = sseComment('heartbeat')
    }
    let count = 0
    for (const queue of [this.replay, this.live]) {
      if (count >= max || queue.length === 0) continue
      const taken = queue.splice(0, max - count)
      for (const event of taken) text += eventFrame(event)
      count += taken.length
      this.sent = taken.at(-1)?.revision ?? this.sent
    }
    return text
  }
}

/** Each config is serialized once however many watchers send it (events are shared objects). */
const serialized = new WeakMap<Config, string>()

function eventFrame(event: ChangeEvent): string {
  let config = serialized.get(event.config)
  if (config === undefined) {
    config = JSON.stringify(event.config)
    serialized.set(event.config, config)
  }
  const data = `{"type":${JSON.stringify(event.type)},"revision":${event.revision},"config":${config}}`
  return sseEvent(event.type, data, event.revision)
}
