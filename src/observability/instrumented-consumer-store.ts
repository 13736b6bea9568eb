/**
 * A ConsumerStore decorator, as instrumentStore is for configs: each call's latency in
 * `store_operation_duration_seconds` (operations `consumers.write`, `consumers.list`,
 * `consumers.prune`) and, with tracing on, a client span (a batch's write
 * runs on the batch's timer, so its span has no request for parent).
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { ConsumerStore } from '../configs/consumer-store.ts'
import type { Metrics } from './metrics.ts'
import type { Tracing } from './tracing.ts'

export function instrumentConsumerStore(
  store: ConsumerStore,
  backend: 'sqlite' | 'postgres',
  { metrics, tracing }: { metrics: Metrics; tracing: Tracing },
): ConsumerStore {
  const dbSystem = backend === 'postgres' ? 'postgresql' : backend
  const observe = <Args extends unknown[], T>(operation: string, call: (...args: Args) => Promise<T>) => {
    // Made on first use: a series exported before any call would only weigh on every scrape.
    let series: ReturnType<Metrics['storeOperation']> | undefined
    return async (...args: Args): Promise<T> => {
      const start = performance.now()
      const span = tracing.enabled
        ? tracing.tracer.startSpan(
            `${operation} consumer_reports`,
            {
              kind: SpanKind.CLIENT,
              attributes: {
                'db.system': dbSystem,
                'db.system.name': dbSystem,
                'db.operation.name': operation,
                'db.collection.name': 'consumer_reports',
              },
            },
            tracing.active(),
          )
        : undefined
      try {
        return await call(...args)
      } catch (error) {
        span?.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined })
        throw error
      } finally {
        series ??= metrics.storeOperation(`consumers.${operation}`, backend)
        series.observe((performance.now() - start) / 1000)
        span?.end()
      }
    }
  }
  return {
    write: observe('write', (reports, limits) => store.write(reports, limits)),
    list: observe('list', (dcname: string) => store.list(dcname)),
    // Only the config_consumers gauge counts: a scrape is no store operation worth timing.
    countStates: (before) => store.countStates(before),
    prune: observe('prune', (before: number) => store.prune(before)),
    close: () => store.close(),
  }
}
