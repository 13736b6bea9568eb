/**
 * OTEL_TRACES_EXPORTER=console, as one JSON log line per span. OpenTelemetry's own console
 * exporter pretty-prints objects over several lines, which would break the promise that every
 * stdout line of this service is a JSON object.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { type ExportResult, ExportResultCode, hrTimeToMicroseconds } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { Logger } from './logger.ts'

export class JsonLineSpanExporter implements SpanExporter {
  constructor(private readonly logger: Logger) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const { traceId, spanId } = span.spanContext()
      this.logger.info(
        {
          span: {
            name: span.name,
            kind: SpanKind[span.kind],
            trace_id: traceId,
            span_id: spanId,
            parent_span_id: span.parentSpanContext?.spanId,
            start_us: hrTimeToMicroseconds(span.startTime),
            duration_us: hrTimeToMicroseconds(span.duration),
            status: SpanStatusCode[span.status.code],
            attributes: span.attributes,
          },
        },
        'span',
      )
    }
    done({ code: ExportResultCode.SUCCESS })
  }

  async shutdown(): Promise<void> {}
}
