/**
 * The rollout watch as an async iterator: `for await (const item of rollouts.watch({ since }))`.
 *
 * It yields each rollout event once, in the order of the service's rollout event log, for as
 * long as the caller reads: a dropped connection, a restart or an `ERROR` event is followed by a
 * reconnect with `since=<the last event yielded>`, so nothing is lost or repeated (as the config
 * watch of watch.ts). Without `since` it starts from the log's newest event now (`X-Revision` of
 * a one-item list). When the service no longer keeps the events to resume from (410), it yields
 * one `RELIST` item with the newest event now and goes on after it: read again what you follow
 * (the rollout, or the list). It ends when the caller stops reading or `signal` aborts; 400, 401
 * and 403 are thrown as ProblemError.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream'
import type { RolloutStatus } from '../configs/rollouts/rollout-model.ts'
import { ProblemError } from './problem-error.ts'
import type { ConfigClientCore } from './requests.ts'
import { retryable, sleep, type WatchOptions } from './watch.ts'

export type RolloutWatchOptions = Pick<WatchOptions, 'since' | 'signal' | 'retryDelayMs' | 'onReconnect'>

/** A rollout event, exactly the `data` of its server-sent event. */
export interface RolloutWatchEvent {
  /** The timeline entry: created, wave-started, gate-failed, reverted, completed, ... */
  type: string
  /** Its place in the rollout event log: resume after it with `since`. */
  revision: number
  /** The rollout's id. */
  id: string
  /** The rollout's status and wave once that entry was saved. */
  status: RolloutStatus
  wave: number
  time: string
  entryWave?: number
  dcname?: string
  detail?: string
}

/** After a 410: events up to `revision` are gone; the ones after it follow. */
export interface RolloutWatchRelist {
  type: 'RELIST'
  revision: number
}

const MAX_RETRY_DELAY_MS = 5000

export async function* watchRollouts(
  client: ConfigClientCore,
  options: RolloutWatchOptions,
): AsyncGenerator<RolloutWatchEvent | RolloutWatchRelist, void, undefined> {
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  const firstDelay = options.retryDelayMs ?? 200
  let delay = firstDelay
  let reader: ReadableStreamDefaultReader<{ event?: string; data: string }> | undefined
  const newest = async () => {
    const response = await client.request('/rollouts?limit=1', { method: 'GET', signal: stop.signal })
    await response.body?.cancel()
    return Number(response.headers.get('x-revision') ?? 0)
  }
  try {
    let since = options.since ?? (await newest())
    while (!stop.signal.aborted) {
      let cause: unknown
      try {
        const response = await client.request(`/rollouts?watch=true&since=${since}`, {
          method: 'GET',
          headers: { accept: 'text/event-stream' },
          signal: stop.signal,
        })
        reader = (response.body as ReadableStream<BufferSource>)
          .pipeThrough(new TextDecoderStream())
          .pipeThrough(new EventSourceParserStream())
          .getReader()
        cause = new Error('the rollout watch stream ended')
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          const message = read.value
          if (message.event === 'ERROR') {
            cause = ProblemError.from(0, JSON.parse(message.data))
            break
          }
          const event = JSON.parse(message.data) as RolloutWatchEvent
          if (event.revision <= since) continue
          since = event.revision
          delay = firstDelay
          yield event
        }
      } catch (error) {
        if (stop.signal.aborted) return
        if (error instanceof ProblemError && error.status === 410) {
          since = await newest()
          yield { type: 'RELIST', revision: since }
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
      await sleep(delay / 2 + Math.random() * (delay / 2), stop.signal)
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    stop.abort()
  }
}
