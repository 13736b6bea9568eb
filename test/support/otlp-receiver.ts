/**
 * A minimal OTLP/HTTP traces receiver for tests: a real listener on 127.0.0.1 that accepts
 * `POST /v1/traces` in the JSON encoding (what @opentelemetry/exporter-trace-otlp-http sends)
 * and keeps every span it is sent, flattened.
 */
import type { Server } from 'bun'

export interface ReceivedSpan {
  serviceName: string
  name: string
  traceId: string
  spanId: string
  parentSpanId: string
  kind: number
  /** Status code: 0 unset, 1 ok, 2 error. */
  statusCode: number
  attributes: Record<string, string | number | boolean>
}

interface OtlpValue {
  stringValue?: string
  intValue?: string | number
  doubleValue?: number
  boolValue?: boolean
}
interface OtlpAttribute {
  key: string
  value: OtlpValue
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] }
    scopeSpans?: {
      spans?: {
        name: string
        traceId: string
        spanId: string
        parentSpanId?: string
        kind: number
        status?: { code?: number }
        attributes?: OtlpAttribute[]
      }[]
    }[]
  }[]
}

export interface OtlpReceiver {
  url: string
  spans: ReceivedSpan[]
  /** Content types of the requests received, to show which encoding the exporter used. */
  contentTypes: string[]
  /** Waits (bounded) until `predicate` holds for some received span, and returns that span. */
  waitForSpan(predicate: (span: ReceivedSpan) => boolean, timeoutMs?: number): Promise<ReceivedSpan>
  stop(): Promise<void>
}

export function startOtlpReceiver(): OtlpReceiver {
  const spans: ReceivedSpan[] = []
  const contentTypes: string[] = []
  const server: Server<undefined> = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      if (request.method !== 'POST' || new URL(request.url).pathname !== '/v1/traces') {
        return new Response('not found', { status: 404 })
      }
      const contentType = request.headers.get('content-type') ?? ''
      contentTypes.push(contentType)
      if (!contentType.startsWith('application/json')) return new Response('JSON only', { status: 415 })
      spans.push(...flatten((await request.json()) as OtlpExport))
      return Response.json({})
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    spans,
    contentTypes,
    async waitForSpan(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = spans.find(predicate)
        if (found) return found
        if (Date.now() > deadline) {
          throw new Error(`no matching span within ${timeoutMs} ms; received: ${spans.map((s) => s.name).join(', ')}`)
        }
        await Bun.sleep(20)
      }
    },
    stop: () => server.stop(true),
  }
}

function flatten(body: OtlpExport): ReceivedSpan[] {
  const result: ReceivedSpan[] = []
  for (const resourceSpans of body.resourceSpans ?? []) {
    const resource = attributes(resourceSpans.resource?.attributes)
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        result.push({
          serviceName: String(resource['service.name']),
          name: span.name,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          kind: span.kind,
          statusCode: span.status?.code ?? 0,
          attributes: attributes(span.attributes),
        })
      }
    }
  }
  return result
}

function attributes(list: OtlpAttribute[] = []): Record<string, string | number | boolean> {
  const result: Record<string, string | number | boolean> = {}
  for (const { key, value } of list) {
    if (value.stringValue !== undefined) result[key] = value.stringValue
    else if (value.intValue !== undefined) result[key] = Number(value.intValue)
    else if (value.doubleValue !== undefined) result[key] = value.doubleValue
    else if (value.boolValue !== undefined) result[key] = value.boolValue
  }
  return result
}
