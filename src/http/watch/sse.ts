/** Server-sent events framing (the WHATWG `text/event-stream` format). */

export const SSE_HEADERS: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // Reverse proxies (nginx ingress) would otherwise hold events back to fill their buffers.
  'x-accel-buffering': 'no',
}

/**
 * One event. `data` must be a single line, which JSON.stringify output always is; `id` becomes
 * the client's Last-Event-ID, sent back when an EventSource reconnects.
 */
export function sseEvent(event: string, data: string, id?: number): string {
  return id === undefined ? `event: ${event}\ndata: ${data}\n\n` : `event: ${event}\nid: ${id}\ndata: ${data}\n\n`
}

/** A comment line: clients ignore it, proxies and load balancers see traffic. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`
}
