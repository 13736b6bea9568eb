/**
 * Observes every request from the outside of the Elysia pipeline (its `wrap` hook), so that
 * whatever answers it (a handler, the error mapper's 404/405, a 401 from the auth guard) is seen
 * with its final status: request metrics, one access log line, the `X-Request-Id` header and,
 * when tracing is on, a server span that is active while the handler and the store run.
 * Also serves `GET /metrics`, unless the metrics have a port of their own (METRICS_PORT, see
 * metrics-listener.ts): then this port answers 404 for it.
 *
 * Per request this costs a few field reads, a route match (a lookup, and an expression for each
 * pattern with parameters) and one buffered log line; with tracing off no span or context is made, and the access line takes the
 * caller's trace id (or a fresh one) so logs still join up with traces upstream.
 */
import { type Context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { Elysia } from 'elysia'
import { ids } from './id-source.ts'
import { infoLineWriter, type Logger } from './logger.ts'
import type { Metrics } from './metrics.ts'
import { methodLabel, pathOf, routeLabel } from './route-label.ts'
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from './semantic-attributes.ts'
import { incomingTraceId } from './trace-ids.ts'
import { REQUEST_ID_KEY, type Tracing } from './tracing.ts'

export interface HttpObservabilityDeps {
  metrics: Metrics
  tracing: Tracing
  logger: Logger
  /**
   * The route pattern serving a method at a path (`/configs/:dcname`), undefined when none
   * matches: the app's own matcher, the one that decides its 404s and 405s.
   */
  routeOf: (method: string, path: string) => string | undefined
  /** False when METRICS_PORT serves `/metrics` instead; true when left out. */
  serveMetrics?: boolean
  /**
   * The request's id and the header that carries it back: the HTTP layer resolves it once per
   * request, so the handlers' writes (their history entries) and this layer agree on it.
   */
  requestIds: { header: string; of: (request: Request) => string }
  /** Told the trace id of each request (the one its access line names), for the audit line. */
  onTraceId?: (request: Request, traceId: string) => void
}

type Handle = (request: Request) => Response | Promise<Response>

/** What is known of one request while it is handled: for its span, its access line and its metrics. */
interface RequestObservation {
  start: number
  method: string
  path: string
  route: string
  requestId: string
  userAgent: string | null
  span: Span | undefined
  /** Ids for the access line when no tracer runs. */
  traceId: string | undefined
}

/** Long client-supplied values are cut in log lines; they are evidence, not payload. */
const MAX_LOGGED_LENGTH = 512

export function httpObservability({
  metrics,
  tracing,
  logger,
  routeOf,
  serveMetrics = true,
  requestIds,
  onTraceId = () => {},
}: HttpObservabilityDeps) {
  const writeInfo = infoLineWriter(logger)

  function observe(handle: Handle, request: Request): Response | Promise<Response> {
    metrics.requestStarted()
    const method = request.method
    const path = pathOf(request.url)
    const route = routeLabel(routeOf(method, path))
    const headers = request.headers
    const state: RequestObservation = {
      start: performance.now(),
      method,
      path,
      route,
      requestId: requestIds.of(request),
      userAgent: headers.get('user-agent'),
      span: undefined,
      traceId: undefined,
    }
    let pending: Response | Promise<Response>
    try {
      if (tracing.enabled) {
        const parent = tracing.extract(headers)
        const span = startServerSpan(request, state, parent)
        state.span = span
        onTraceId(request, span.spanContext().traceId)
        pending = tracing.run(trace.setSpan(parent, span).setValue(REQUEST_ID_KEY, state.requestId), handle, request)
      } else {
        state.traceId = incomingTraceId(headers) ?? ids.traceId()
        onTraceId(request, state.traceId)
        pending = handle(request)
      }
    } catch (error) {
      record(500, state)
      throw error
    }
    if (pending instanceof Promise) {
      return pending.then(
        (response) => respond(response, state),
        (error: unknown) => {
          record(500, state)
          throw error
        },
      )
    }
    return respond(pending, state)
  }

  function startServerSpan(request: Request, state: RequestObservation, parent: Context): Span {
    const url = new URL(request.url)
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    return tracing.tracer.startSpan(
      `${state.method} ${state.route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: methodLabel(state.method) === 'OTHER' ? '_OTHER' : state.method,
          [ATTR_URL_PATH]: state.path,
          [ATTR_URL_SCHEME]: url.protocol.slice(0, -1),
          [ATTR_HTTP_ROUTE]: state.route,
          [ATTR_SERVER_ADDRESS]: url.hostname,
          [ATTR_SERVER_PORT]: port,
          ...(state.userAgent === null ? {} : { [ATTR_USER_AGENT_ORIGINAL]: state.userAgent }),
        },
      },
      parent,
    )
  }

  function respond(response: Response, state: RequestObservation): Response {
    record(response.status, state)
    return withRequestId(response, requestIds.header, state.requestId)
  }

  /** Records the outcome (500 for a handler that threw past the error mapper). */
  function record(status: number, state: RequestObservation): void {
    const seconds = (performance.now() - state.start) / 1000
    metrics.requestFinished()
    metrics.observeRequest(methodLabel(state.method), state.route, status, seconds)
    // Built as JSON text directly: this line is written once per request (see infoLineWriter).
    // Method, route and request id are from small sets or safe characters (request-id.ts): their
    // JSON text is made once per value, or is the value in quotes.
    let line =
      `"method":${label(state.method)},"path":${jsonText(clip(state.path))},"route":${label(state.route)}` +
      `,"status":${status},"duration_ms":${Math.round(seconds * 1e6) / 1000},"request_id":"${state.requestId}"`
    const span = state.span
    if (span) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status)
      if (status >= 500) {
        span.setAttribute('error.type', String(status))
        span.setStatus({ code: SpanStatusCode.ERROR })
      }
      span.end()
      const { traceId, spanId } = span.spanContext()
      line += `,"trace_id":"${traceId}","span_id":"${spanId}"`
    } else if (state.traceId) {
      line += `,"trace_id":"${state.traceId}","span_id":"${ids.spanId()}"`
    }
    if (state.userAgent !== null) line += `,"user_agent":${jsonText(clip(state.userAgent))}`
    writeInfo(line, 'request')
  }

  // Elysia asks its wrappers for the handler anew on every request, always with the same inner
  // handler: the wrapped one is made once per inner handler, not once per request.
  let inner: Handle | undefined
  let wrapped: Handle | undefined
  const wrap = (handle: Handle): Handle => {
    if (handle !== inner || wrapped === undefined) {
      inner = handle
      wrapped = (request) => observe(handle, request)
    }
    return wrapped
  }
  const observed = new Elysia().wrap(wrap as never)
  if (!serveMetrics) return observed
  return observed.get(
    '/metrics',
    async () => new Response(await metrics.scrape(), { headers: { 'content-type': metrics.contentType } }),
    {
      detail: {
        summary: 'Prometheus metrics',
        description: 'Text exposition format 0.0.4: HTTP, store, watch and process metrics.',
      },
    },
  )
}

function withRequestId(response: Response, header: string, requestId: string): Response {
  try {
    response.headers.set(header, requestId)
    return response
  } catch {
    // Headers of some responses are immutable; a copy carries the header instead.
    const copy = new Response(response.body, response)
    copy.headers.set(header, requestId)
    return copy
  }
}

/** JSON text of method and route labels, made once per value (both sets are bounded). */
const labels = new Map<string, string>()
function label(value: string): string {
  let text = labels.get(value)
  if (text === undefined) {
    text = JSON.stringify(value)
    if (labels.size < 1000) labels.set(value, text)
  }
  return text
}

/** Printable ASCII without quote or backslash is its own JSON text; anything else is escaped. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/
function jsonText(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value)
}

function clip(value: string): string {
  return value.length > MAX_LOGGED_LENGTH ? `${value.slice(0, MAX_LOGGED_LENGTH)}…` : value
}
