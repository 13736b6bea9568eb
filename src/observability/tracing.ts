/**
 * OpenTelemetry traces without global state: this module owns its provider, propagator and
 * context manager, so several apps in one process (the tests) never fight over the API's
 * globals, and with OTEL_TRACES_EXPORTER=none nothing runs per request at all.
 *
 * The context manager is AsyncLocalStorage-based: a store call made anywhere below a request
 * handler, across awaits, finds the request's server span as its parent (verified on Bun and
 * Deno by test/observability/tracing.test.ts and the exporter tests).
 */
import {
  type Context,
  createContextKey,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import pkg from '../../package.json' with { type: 'json' }
import type { TracingSettings } from '../settings.ts'
import type { Logger } from './logger.ts'
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from './semantic-attributes.ts'

export interface Tracing {
  /** False when no exporter is configured: then nothing else here is called per request. */
  readonly enabled: boolean
  readonly tracer: Tracer
  /** The caller's span context from `traceparent` or `uber-trace-id` (ROOT_CONTEXT when none). */
  extract(headers: Headers): Context
  /** The context of the code calling this: inside `run`, the request's. */
  active(): Context
  /** Runs `fn(arg)` with `context` active for everything it awaits. */
  run<A, R>(context: Context, fn: (arg: A) => R, arg: A): R
  /** Exports every finished span now. */
  forceFlush(): Promise<void>
  /** Flushes, then stops the exporter; call once, at shutdown. */
  shutdown(): Promise<void>
}

/**
 * Records who the current request acts as on its server span: the actor (a token's name, a
 * JWT's sub), never a credential. `enduser.id` is OpenTelemetry's attribute for it.
 */
export function actorRecorder(tracing: Tracing): (actor: string) => void {
  if (!tracing.enabled) return () => {}
  return (actor) => trace.getSpan(tracing.active())?.setAttribute('enduser.id', actor)
}

/** The request id travels in the context so store-level log lines can carry it. */
export const REQUEST_ID_KEY = createContextKey('config-service.request_id')

const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
}

export async function createTracing(settings: TracingSettings, logger: Logger): Promise<Tracing> {
  const exporter = await createExporter(settings, logger)
  if (!exporter) return disabledTracing()
  // The SDK is loaded only when traces are exported: it is a fifth of the start-up time.
  const [
    { AsyncLocalStorageContextManager },
    { CompositePropagator, W3CTraceContextPropagator },
    { JaegerPropagator },
    { resourceFromAttributes },
    { BasicTracerProvider, BatchSpanProcessor },
  ] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/propagator-jaeger'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
  ])

  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.serviceName,
      [ATTR_SERVICE_VERSION]: pkg.version,
    }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: settings.batchDelayMs })],
  })
  // Jaeger first: when a caller sends both headers, the W3C one (extracted last) wins.
  const propagator: TextMapPropagator = new CompositePropagator({
    propagators: [new JaegerPropagator(), new W3CTraceContextPropagator()],
  })
  const contexts = new AsyncLocalStorageContextManager().enable()
  let stopped: Promise<void> | undefined

  return {
    enabled: true,
    tracer: provider.getTracer('config-service', pkg.version),
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, headerGetter),
    active: () => contexts.active(),
    run: (context, fn, arg) => contexts.with(context, fn, undefined, arg),
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= provider.shutdown().finally(() => contexts.disable())
      return stopped
    },
  }
}

async function createExporter(settings: TracingSettings, logger: Logger): Promise<SpanExporter | undefined> {
  switch (settings.exporter) {
    case 'none':
      return undefined
    case 'console': {
      const { JsonLineSpanExporter } = await import('./json-line-span-exporter.ts')
      return new JsonLineSpanExporter(logger)
    }
    case 'otlp': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
      return new OTLPTraceExporter(settings.otlpTracesUrl ? { url: settings.otlpTracesUrl } : {})
    }
    case 'jaeger':
      return jaegerExporter(settings, logger)
  }
}

/**
 * The legacy Thrift path. The package is deprecated upstream and reads Thrift IDL files at run
 * time, which a bundled or compiled build does not carry: it is imported only when chosen, and
 * when it cannot load, the service says so and runs on without traces.
 */
async function jaegerExporter(settings: TracingSettings, logger: Logger): Promise<SpanExporter | undefined> {
  try {
    const { JaegerExporter } = await import('@opentelemetry/exporter-jaeger')
    return new JaegerExporter({
      host: settings.jaegerAgentHost,
      port: settings.jaegerAgentPort,
      endpoint: settings.jaegerEndpoint,
    })
  } catch (error) {
    logger.error(
      { err: error },
      'OTEL_TRACES_EXPORTER=jaeger cannot load in this build; tracing is off (use otlp: Jaeger ingests OTLP on 4318)',
    )
    return undefined
  }
}

function disabledTracing(): Tracing {
  return {
    enabled: false,
    // A provider of its own with no delegate: spans started on it (nothing here does) go nowhere.
    tracer: new ProxyTracerProvider().getTracer('config-service'),
    extract: () => ROOT_CONTEXT,
    active: () => ROOT_CONTEXT,
    run: (_context, fn, arg) => fn(arg),
    forceFlush: async () => {},
    shutdown: async () => {},
  }
}
