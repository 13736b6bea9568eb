/**
 * Observes every request from the outside of the router (the app's front door calls `observe`
 * around it), so that whatever answers it (a handler, a 404/405, a 401 from the access gate, a
 * 400 for a URL that cannot be routed) is seen with its final status: request metrics, one
 * access log line, the `X-Request-Id` header and, when tracing is on, a server span that is
 * active while the handler and the store run. `metricsRoute` serves `GET /metrics`, unless the
 * metrics have a port of their own (METRICS_PORT, see metrics-listener.ts).
 *
 * Per request this costs a few field reads and one buffered log line; with tracing off no span
 * or context is made, and the access line takes the caller's trace id (or a fresh one) so logs
 * still join up with traces upstream.
 */
import { type Context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { Elysia } from 'elysia'
import { ids } from './id-source.ts'
import { infoLineWriter, type Logger } from './logger.ts'
import type { Metrics } from './metrics.ts'
import { methodLabel, routeLabel } from './route-label.ts'
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
  /** The header that carries the request id back to the caller. */
  requestIdHeader: string
}

/**
 * What the app knows of a request (its RequestContext, src/http/request-context.ts), as far as
 * this layer reads it: the route once the answer is known; the trace id is written here.
 */
export interface ObservedRequest {
  readonly request: Request
  readonly start: number
  readonly method: string
  readonly path: string
  readonly requestId: string
  /** The pattern that served it (`/configs/:dcname`); undefined when none matched. */
  readonly route: string | undefined
  traceId: string | undefined
}

type Answer = Response | Promise<Response>

/** Long client-supplied values are cut in log lines; they are evidence, not payload. */
const MAX_LOGGED_LENGTH = 512

/** Makes `observe`: it runs `handle` for one request and records how it ended. */
export function httpObservability({ metrics, tracing, logger, requestIdHeader }: HttpObservabilityDeps) {
  const writeInfo = infoLineWriter(logger)

  function observe<R extends ObservedRequest>(observed: R, handle: (observed: R) => Answer): Answer {
    metrics.requestStarted()
    const { request } = observed
    const headers = request.headers
    const userAgent = headers.get('user-agent')
    let span: Span | undefined
    let pending: Answer
    try {
      if (tracing.enabled) {
        const parent = tracing.extract(headers)
        span = startServerSpan(observed, userAgent, parent)
        observed.traceId = span.spanContext().traceId
        pending = tracing.run(
          trace.setSpan(parent, span).setValue(REQUEST_ID_KEY, observed.requestId),
          handle,
          observed,
        )
      } else {
        observed.traceId = incomingTraceId(headers) ?? ids.traceId()
        pending = handle(observed)
      }
    } catch (error) {
      record(500, observed, userAgent, span)
      throw error
    }
    if (pending instanceof Promise) {
      return pending.then(
        (response) => respond(response, observed, userAgent, span),
        (error: unknown) => {
          record(500, observed, userAgent, span)
          throw error
        },
      )
    }
    return respond(pending, observed, userAgent, span)
  }

  /** The span is named for its route when the route is known, at its end. */
  function startServerSpan(observed: ObservedRequest, userAgent: string | null, parent: Context): Span {
    const { method, request } = observed
    const url = URL.parse(request.url)
    return tracing.tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: methodLabel(method) === 'OTHER' ? '_OTHER' : method,
          [ATTR_URL_PATH]: observed.path,
          ...(url === null
            ? {}
            : {
                [ATTR_URL_SCHEME]: url.protocol.slice(0, -1),
                [ATTR_SERVER_ADDRESS]: url.hostname,
                [ATTR_SERVER_PORT]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
              }),
          ...(userAgent === null ? {} : { [ATTR_USER_AGENT_ORIGINAL]: userAgent }),
        },
      },
      parent,
    )
  }

  function respond(
    response: Response,
    observed: ObservedRequest,
    userAgent: string | null,
    span: Span | undefined,
  ): Response {
    record(response.status, observed, userAgent, span)
    return withRequestId(response, requestIdHeader, observed.requestId)
  }

  /** Records the outcome (500 for a handler that threw past the error mapper). */
  function record(status: number, observed: ObservedRequest, userAgent: string | null, span: Span | undefined): void {
    const { method, path, requestId } = observed
    const seconds = (performance.now() - observed.start) / 1000
    const route = routeLabel(observed.route)
    metrics.requestFinished()
    metrics.observeRequest(methodLabel(method), route, status, seconds)
    // Built as JSON text directly: this line is written once per request (see infoLineWriter).
    // Method, route and request id are from small sets or safe characters (request-id.ts): their
    // JSON text is made once per value, or is the value in quotes.
    let line =
      `"method":${label(method)},"path":${jsonText(clip(path))},"route":${label(route)}` +
      `,"status":${status},"duration_ms":${Math.round(seconds * 1e6) / 1000},"request_id":"${requestId}"`
    if (span) {
      span.updateName(`${method} ${route}`)
      span.setAttribute(ATTR_HTTP_ROUTE, route)
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status)
      if (status >= 500) {
        span.setAttribute('error.type', String(status))
        span.setStatus({ code: SpanStatusCode.ERROR })
      }
      span.end()
      const { traceId, spanId } = span.spanContext()
      line += `,"trace_id":"${traceId}","span_id":"${spanId}"`
    } else if (observed.traceId) {
      line += `,"trace_id":"${observed.traceId}","span_id":"${ids.spanId()}"`
    }
    if (userAgent !== null) line += `,"user_agent":${jsonText(clip(userAgent))}`
    writeInfo(line, 'request')
  }

  return observe
}

export const METRICS_PATH = '/metrics'

/** `GET /metrics`, on the API's port when no METRICS_PORT is set. */
export function metricsRoute(metrics: Pick<Metrics, 'scrape' | 'contentType'>) {
  return new Elysia({ name: 'metrics' }).get(
    METRICS_PATH,
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
