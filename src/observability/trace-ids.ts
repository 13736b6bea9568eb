/**
 * The caller's trace id for access lines when no tracer runs (OTEL_TRACES_EXPORTER=none), from
 * W3C traceparent or Jaeger uber-trace-id, so that logs still join up with the caller's traces.
 * Without one, the access line gets a new id (id-source.ts). No span is made.
 */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/
const UBER_TRACE_ID = /^([0-9a-f]{1,32}):[0-9a-f]{1,16}:[0-9a-f]{1,16}:[0-9a-f]{1,2}$/
const INVALID_TRACE = '0'.repeat(32)

export function incomingTraceId(headers: Headers): string | undefined {
  const traceparent = headers.get('traceparent')
  const w3c = traceparent === null ? undefined : TRACEPARENT.exec(traceparent.toLowerCase())?.[1]
  if (w3c && w3c !== INVALID_TRACE) return w3c
  // Most requests carry neither header: they skip the decoding and the expressions.
  const uberHeader = headers.get('uber-trace-id')
  if (uberHeader === null) return undefined
  const uber = UBER_TRACE_ID.exec(decodeURIComponent(uberHeader).toLowerCase())?.[1]
  const padded = uber?.padStart(32, '0')
  return padded && padded !== INVALID_TRACE ? padded : undefined
}
