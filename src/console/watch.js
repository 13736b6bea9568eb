/**
 * Follows `GET /configs?watch=true&since=<revision>` with fetch() and a stream reader rather
 * than EventSource, which cannot send the Authorization header a protected service needs.
 * It reconnects by itself from the last revision received (`since`), as EventSource would with
 * Last-Event-ID, and hands a 410 (that revision is no longer kept) to the page, which lists again.
 */
import { ApiError, authHeaders } from './api.js'

/**
 * @typedef {import('./api.js').Config} Config
 * @typedef {{ type: 'ADDED' | 'MODIFIED' | 'DELETED', revision: number, config: Config }} WatchEvent
 * @typedef {'connecting' | 'connected' | 'reconnecting' | 'stopped'} WatchState
 * @typedef {{ event: string, data: string, id?: string }} SseMessage
 */

const CHANGE_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED'])
const FIRST_RETRY_MS = 500
const LAST_RETRY_MS = 10_000

/**
 * @param {{
 *   filters: URLSearchParams,
 *   since: number,
 *   onEvent: (event: WatchEvent) => void,
 *   onState: (state: WatchState) => void,
 *   onGone: () => void,
 *   onFailed: (error: ApiError) => void,
 * }} options
 * @returns {() => void} stops the watch
 */
export function watchConfigs(options) {
  const controller = new AbortController()
  const { signal } = controller
  let since = options.since
  let retryMs = FIRST_RETRY_MS
  const run = async () => {
    options.onState('connecting')
    while (!signal.aborted) {
      const query = new URLSearchParams(options.filters)
      query.set('watch', 'true')
      query.set('since', String(since))
      try {
        const response = await fetch(`/configs?${query}`, {
          headers: { accept: 'text/event-stream', ...authHeaders() },
          signal,
        })
        if (response.status === 410) return options.onGone()
        // Refusals that a retry would only repeat (a bad filter, no or a wrong token).
        if (response.status >= 400 && response.status < 500) {
          const problem = await response.json().catch(() => ({}))
          options.onState('stopped')
          return options.onFailed(new ApiError({ ...problem, status: response.status }))
        }
        if (!response.ok || !response.body) throw new Error(`watch answered ${response.status}`)
        options.onState('connected')
        retryMs = FIRST_RETRY_MS
        for await (const message of sseMessages(response.body)) {
          // ERROR: the service dropped this watcher for falling behind; resume from `since`.
          if (message.event === 'ERROR') break
          if (!CHANGE_TYPES.has(message.event)) continue
          const event = /** @type {WatchEvent} */ (JSON.parse(message.data))
          since = event.revision
          options.onEvent(event)
        }
      } catch {
        // A lost connection or a stopped service: retried below, unless stopped on purpose.
      }
      if (signal.aborted) break
      options.onState('reconnecting')
      await sleep(retryMs, signal)
      retryMs = Math.min(retryMs * 2, LAST_RETRY_MS)
    }
  }
  void run()
  return () => {
    controller.abort()
    options.onState('stopped')
  }
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve(undefined)
      },
      { once: true },
    )
  })
}

/**
 * The messages of a `text/event-stream` body (the WHATWG format: `field: value` lines, a blank
 * line ends a message, `:` starts a comment).
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<SseMessage>}
 */
export async function* sseMessages(body) {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  /** @type {SseMessage} */
  let message = { event: 'message', data: '' }
  let hasData = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      const lines = buffer.split(/\r\n|\r|\n/)
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        if (line === '') {
          if (hasData) yield message
          message = { event: 'message', data: '' }
          hasData = false
          continue
        }
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon === -1 ? line : line.slice(0, colon)
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') message.event = value
        else if (field === 'id') message.id = value
        else if (field === 'data') {
          message.data = hasData ? `${message.data}\n${value}` : value
          hasData = true
        }
      }
    }
  } finally {
    // Closes the connection when the consumer stops early (a dropped watcher's ERROR).
    void reader.cancel().catch(() => {})
  }
}
