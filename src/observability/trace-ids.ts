/**
 * Trace and span ids for access lines when no tracer runs (OTEL_TRACES_EXPORTER=none): the
 * caller's trace id when it sent one (W3C traceparent or Jaeger uber-trace-id), else a new one,
 * so that logs still join up with the caller's traces. No span is made; this costs two header
 * reads and a few random bytes.
 */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/
const UBER_TRACE_ID = /^([0-9a-f]{1,32}):[0-9a-f]{1,16}:[0-9a-f]{1,16}:[0-9a-f]{1,2}$/
const INVALID_TRACE = '0'.repeat(32)

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const scratch = new Uint8Array(16)

export function randomId(bytes: 8 | 16): string {
  const view = scratch.subarray(0, bytes)
  crypto.getRandomValues(view)
  let id = ''
  for (const byte of view) id += HEX[byte]
  return id === INVALID_TRACE.slice(0, bytes * 2) ? randomId(bytes) : id
}

export function incomingTraceId(headers: Headers): string | undefined {
  const w3c = TRACEPARENT.exec(headers.get('traceparent')?.toLowerCase() ?? '')?.[1]
  if (w3c && w3c !== INVALID_TRACE) return w3c
  const uber = UBER_TRACE_ID.exec(decodeURIComponent(headers.get('uber-trace-id') ?? '').toLowerCase())?.[1]
  const padded = uber?.padStart(32, '0')
  return padded && padded !== INVALID_TRACE ? padded : undefined
}
