/**
 * A small server-sent events client for tests: opens `GET ...?watch=true` with fetch and parses
 * the stream as the WHATWG EventSource does (fields, comments, blank-line dispatch), with a
 * bounded wait on every read.
 */

export interface SseMessage {
  event: string
  id?: string
  data: string
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  revision: number
  config: { dcname: string; metadata: Record<string, unknown> }
}

export class SseStream {
  readonly messages: SseMessage[] = []
  readonly comments: string[] = []
  ended = false
  error: unknown
  private taken = 0
  private readonly waiters = new Set<() => void>()
  private gate: Promise<void> | undefined
  private release: (() => void) | undefined
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> }
  /** Keeps the pump (and so the reader) referenced: a collected reader closes the connection. */
  readonly pumping: Promise<void>

  constructor(
    readonly response: Response,
    private readonly abort = new AbortController(),
  ) {
    if (!response.body) throw new Error('the watch response has no body')
    this.reader = response.body.getReader()
    this.pumping = this.pump()
  }

  /** The next message not yet taken; fails after `timeoutMs`, or undefined when the stream ended. */
  async next(timeoutMs = 5000): Promise<SseMessage | undefined> {
    await this.until(() => this.messages.length > this.taken || this.ended, timeoutMs, 'the next event')
    const message = this.messages[this.taken]
    if (message) this.taken++
    return message
  }

  /** The next `count` change events, parsed. */
  async events(count: number, timeoutMs = 5000): Promise<WatchEvent[]> {
    const events: WatchEvent[] = []
    const deadline = Date.now() + timeoutMs
    while (events.length < count) {
      const message = await this.next(Math.max(1, deadline - Date.now()))
      if (!message) throw new Error(`the stream ended after ${events.length} of ${count} events`)
      events.push(parseChange(message))
    }
    return events
  }

  /** Waits for a condition on what has arrived so far. */
  async until(condition: () => boolean, timeoutMs: number, what = 'a condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (this.error) throw this.error
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          this.waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, left)
        this.waiters.add(wake)
      })
    }
  }

  /** Stops reading from the socket, as a slow or stuck client does, until `resume`. */
  pause(): void {
    this.gate ??= new Promise<void>((resolve) => {
      this.release = resolve
    })
  }

  resume(): void {
    this.release?.()
    this.gate = undefined
  }

  /** Drops the connection, as a client that goes away does. */
  close(): void {
    this.abort.abort()
    this.reader.cancel().catch(() => {})
  }

  private notifyAll(): void {
    for (const wake of [...this.waiters]) wake()
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder()
    let buffer = ''
    let fields: Partial<SseMessage> & { data?: string } = {}
    try {
      for (;;) {
        if (this.gate) await this.gate
        const { done, value } = await this.reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        const lines = buffer.split(/\r\n|\r|\n/)
        buffer = lines.pop() ?? ''
        for (const line of lines) {
          if (line === '') {
            if (fields.data !== undefined) {
              this.messages.push({ event: fields.event ?? 'message', id: fields.id, data: fields.data })
            }
            fields = {}
          } else if (line.startsWith(':')) {
            this.comments.push(line.slice(1).trim())
          } else {
            const colon = line.indexOf(':')
            const name = colon === -1 ? line : line.slice(0, colon)
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
            if (name === 'data') fields.data = fields.data === undefined ? value : `${fields.data}\n${value}`
            else if (name === 'event') fields.event = value
            else if (name === 'id') fields.id = value
          }
        }
        this.notifyAll()
      }
    } catch (error) {
      if (!this.abort.signal.aborted) this.error = error
    }
    this.ended = true
    this.notifyAll()
  }
}

export function parseChange(message: SseMessage): WatchEvent {
  if (!['ADDED', 'MODIFIED', 'DELETED'].includes(message.event)) {
    throw new Error(`expected a change event, got ${message.event}: ${message.data}`)
  }
  return JSON.parse(message.data) as WatchEvent
}

/** Opens a watch; the response is returned as is when it is not a stream (400, 410, ...). */
export async function openWatch(
  base: string,
  query = '',
  headers: Record<string, string> = {},
): Promise<SseStream | Response> {
  const abort = new AbortController()
  const separator = query === '' ? '' : '&'
  const response = await fetch(`${base}/configs?watch=true${separator}${query}`, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  })
  if (response.status !== 200) return response
  return new SseStream(response, abort)
}

/** openWatch for when a stream is expected. */
export async function watch(base: string, query = '', headers: Record<string, string> = {}): Promise<SseStream> {
  const opened = await openWatch(base, query, headers)
  if (opened instanceof Response) {
    throw new Error(`expected a watch stream, got ${opened.status}: ${await opened.text()}`)
  }
  return opened
}
