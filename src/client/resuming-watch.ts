/**
 * What every watch of the client shares: reading a server-sent event stream, and following one
 * for as long as the caller reads.
 *
 * `resumingWatch` yields each event once, in the order of the stream's positions (revisions): a
 * dropped connection, a server restart or an `ERROR` event (the watcher fell behind) is followed
 * by a reconnect after the last position yielded, so nothing is lost or repeated. When the
 * service no longer keeps what to resume from (410 Gone), the stream's `relist` says what to
 * yield instead and where to go on. It ends when the caller stops reading or `signal` aborts;
 * errors a retry cannot cure (400, 401, 403) are thrown as ProblemError. The config watch
 * (watch.ts) and the rollout watch (rollout-watch.ts) are this loop with their own URLs and items.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream'
import { ProblemError } from './problem-error.ts'
import type { ConfigClientCore } from './requests.ts'

/** One message of a server-sent event stream. */
export interface StreamMessage {
  event?: string
  data: string
}

/** How long to wait between attempts and whom to tell, as the caller of a watch gives it. */
export interface ResumeOptions {
  /** Replay what happened after this position first. Left out: from the stream's newest now. */
  since?: number
  /** Ends the iteration. */
  signal?: AbortSignal
  /** The first wait before reconnecting (less a random part of up to half), doubled at each failed attempt up to 5 s (default 200 ms). */
  retryDelayMs?: number
  /** Told each time the stream is lost and about to be resumed (to log it, for example). */
  onReconnect?: (cause: unknown, since: number) => void
}

/** One kind of watch: where its stream is and what its messages and its 410 mean. */
export interface ResumableStream<Event extends { revision: number }, Relist extends { revision: number }> {
  /** Said in the error a reconnect is told of when the stream ended by itself. */
  name: string
  /** The stream's newest position now: where a watch without `since` starts. */
  newest(signal: AbortSignal): Promise<number>
  /** The stream's path and query, replaying after `since`. */
  path(since: number): string
  /** The item a message carries, or undefined for a message to pass over (a heart-beat). */
  parse(message: StreamMessage): Event | undefined
  /** After a 410: what to yield instead of what is gone; its revision is where to go on. */
  relist(signal: AbortSignal): Promise<Relist>
}

const MAX_RETRY_DELAY_MS = 5000

export async function* resumingWatch<Event extends { revision: number }, Relist extends { revision: number }>(
  client: ConfigClientCore,
  options: ResumeOptions,
  stream: ResumableStream<Event, Relist>,
): AsyncGenerator<Event | Relist, void, undefined> {
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  const firstDelay = options.retryDelayMs ?? 200
  let delay = firstDelay
  let reader: ReadableStreamDefaultReader<StreamMessage> | undefined
  try {
    // Read before the first connection, so that even a reconnect before the first event misses nothing.
    let since = options.since ?? (await stream.newest(stop.signal))
    while (!stop.signal.aborted) {
      let cause: unknown
      try {
        const response = await client.request(stream.path(since), {
          method: 'GET',
          headers: { accept: 'text/event-stream' },
          signal: stop.signal,
        })
        reader = eventStream(response)
        cause = new Error(`the ${stream.name} stream ended`)
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          const message = read.value
          if (message.event === 'ERROR') {
            cause = ProblemError.from(0, JSON.parse(message.data))
            break
          }
          const event = stream.parse(message)
          // A replay starts after `since`; this guards against a server that repeats itself.
          if (event === undefined || event.revision <= since) continue
          since = event.revision
          delay = firstDelay
          yield event
        }
      } catch (error) {
        if (stop.signal.aborted) return
        if (error instanceof ProblemError && error.status === 410) {
          const relist = await stream.relist(stop.signal)
          since = relist.revision
          yield relist
          continue
        }
        if (error instanceof ProblemError && !retryable(error.status)) throw error
        cause = error
      } finally {
        await reader?.cancel().catch(() => {})
        reader = undefined
      }
      if (stop.signal.aborted) return
      options.onReconnect?.(cause, since)
      // Jittered, so that the watchers of a fleet that lost the service do not all return at once.
      await sleep(delay / 2 + Math.random() * (delay / 2), stop.signal)
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    stop.abort()
  }
}

/** The messages of a `text/event-stream` answer, one at a time. */
export function eventStream(response: Response): ReadableStreamDefaultReader<StreamMessage> {
  return (response.body as ReadableStream<BufferSource>)
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader()
}

/** Worth another try: the service is starting, stopping, overloaded, or a proxy lost it. */
export function retryable(status: number): boolean {
  return status === 429 || status >= 500
}

/** Waits `ms`, or less when `signal` aborts (then resolves at once, without an error). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
