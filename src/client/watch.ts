/**
 * The watch as an async iterator: `for await (const item of client.watch({ since }))`.
 *
 * - It yields each ADDED, MODIFIED and DELETED event once, in revision order, for as long as
 *   the caller reads: a dropped connection, a server restart or an `ERROR` event (the watcher
 *   fell behind) is followed by a reconnect with `since=<the last revision yielded>`, so nothing
 *   is lost or repeated. Without `since` it starts from the store's revision now (read with a
 *   one-item list), so even a reconnect before the first event misses nothing.
 * - When the service no longer keeps the history to resume from (410 Gone), it lists again and
 *   yields one `RELIST` item with every matching config and the revision of that list, then goes
 *   on from there: a mirror of the configs replaces its contents with `configs` and applies the
 *   events after it.
 * - It ends when the caller stops reading (`break`, `return()`) or `signal` aborts. Errors that
 *   a retry cannot cure (400, 401, 403) are thrown as ProblemError.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream'
import type { ChangeType } from '../configs/config-store.ts'
import type { Config } from '../configs/model.ts'
import { ProblemError } from './problem-error.ts'
import type { ConfigClientCore, Filters } from './requests.ts'

export interface WatchOptions {
  /** `metadata.a.b=value` and `dcname=value` conditions, as for a list. */
  filters?: Filters
  /** Only configs whose dcname starts with this (`prefix=`). */
  prefix?: string
  /** Replay what happened after this revision first. Left out: changes from now on. */
  since?: number
  /** Ends the iteration. */
  signal?: AbortSignal
  /** The first wait before reconnecting (less a random part of up to half), doubled at each failed attempt up to 5 s (default 200 ms). */
  retryDelayMs?: number
  /** Told each time the stream is lost and about to be resumed (to log it, for example). */
  onReconnect?: (cause: unknown, since: number) => void
}

/** A change, exactly the `data` of its server-sent event. */
export interface WatchEvent {
  type: ChangeType
  revision: number
  /** A rollback's event: the revision whose state it restored. */
  rollbackOf?: number
  config: Config
}

/** After a 410: every config that matches now, and the store revision they were read at. */
export interface WatchRelist {
  type: 'RELIST'
  revision: number
  configs: Config[]
}

export type WatchItem = WatchEvent | WatchRelist

const CHANGE_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED'])
const MAX_RETRY_DELAY_MS = 5000

export async function* watchConfigs(
  client: ConfigClientCore,
  options: WatchOptions,
): AsyncGenerator<WatchItem, void, undefined> {
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  const filters = options.filters ?? {}
  const prefix: Record<string, string> = options.prefix === undefined ? {} : { prefix: options.prefix }
  const firstDelay = options.retryDelayMs ?? 200
  let delay = firstDelay
  let reader: ReadableStreamDefaultReader<{ event?: string; data: string }> | undefined
  try {
    let since = options.since ?? (await client.list({}, { limit: 1 })).revision
    while (!stop.signal.aborted) {
      let cause: unknown
      try {
        const query = new URLSearchParams({ ...filters, ...prefix, watch: 'true', since: String(since) })
        const response = await client.request(`/configs?${query}`, {
          method: 'GET',
          headers: { accept: 'text/event-stream' },
          signal: stop.signal,
        })
        reader = (response.body as ReadableStream<BufferSource>)
          .pipeThrough(new TextDecoderStream())
          .pipeThrough(new EventSourceParserStream())
          .getReader()
        cause = new Error('the watch stream ended')
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          const message = read.value
          if (message.event === 'ERROR') {
            cause = ProblemError.from(0, JSON.parse(message.data))
            break
          }
          if (!CHANGE_TYPES.has(message.event ?? '')) continue
          const event = JSON.parse(message.data) as WatchEvent
          // A replay starts after `since`; this guards against a server that repeats itself.
          if (event.revision <= since) continue
          since = event.revision
          delay = firstDelay
          yield event
        }
      } catch (error) {
        if (stop.signal.aborted) return
        if (error instanceof ProblemError && error.status === 410) {
          const { configs, revision } = await client.listAll(filters, prefix)
          since = revision
          yield { type: 'RELIST', revision, configs }
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

/** Worth another try: the service is starting, stopping, overloaded, or a proxy lost it. */
export function retryable(status: number): boolean {
  return status === 429 || status >= 500
}

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
