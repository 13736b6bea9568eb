/**
 * A ConfigStore decorator that observes every call from outside: its latency (by operation and
 * backend), a child span of the request's span when tracing is on, and one log line per state
 * change. Handlers and backends stay free of observability code, and every backend gets the
 * same treatment.
 */
import { type Attributes, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import {
  type ChangePageQuery,
  type ConfigStore,
  ConflictError,
  HistoryCompactedError,
  type HistoryQuery,
  type ListQuery,
  NotFoundError,
  type Precondition,
  PreconditionFailedError,
  RevisionCompactedError,
  type WriteMeta,
} from '../configs/config-store.ts'
import type { Config } from '../configs/model.ts'
import { passOn } from '../configs/pass-on.ts'
import { infoLineWriter, type Logger } from './logger.ts'
import type { Metrics } from './metrics.ts'
import { REQUEST_ID_KEY, type Tracing } from './tracing.ts'

interface StoreObservers {
  metrics: Metrics
  tracing: Tracing
  logger: Logger
}

type StateChange = 'created' | 'replaced' | 'patched' | 'deleted' | 'rolled back'

export function instrumentStore(store: ConfigStore, { metrics, tracing, logger }: StoreObservers): ConfigStore {
  const backend = store.backend
  const dbSystem = backend === 'postgres' ? 'postgresql' : backend

  const latency = new Map<string, { observe(seconds: number): void }>()
  async function observe<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const start = performance.now()
    const span = tracing.enabled ? startSpan(operation) : undefined
    try {
      return await call()
    } catch (error) {
      if (span) recordError(span, error)
      throw error
    } finally {
      let series = latency.get(operation)
      if (!series) {
        series = metrics.storeOperation(operation, backend)
        latency.set(operation, series)
      }
      series.observe((performance.now() - start) / 1000)
      span?.end()
    }
  }

  function startSpan(operation: string): Span {
    const attributes: Attributes = {
      'db.system': dbSystem,
      'db.system.name': dbSystem,
      'db.operation.name': operation,
      'db.collection.name': 'configs',
    }
    // Named as the database conventions ask: "{operation} {collection}".
    return tracing.tracer.startSpan(`${operation} configs`, { kind: SpanKind.CLIENT, attributes }, tracing.active())
  }

  const writeInfo = infoLineWriter(logger)
  /** One line per write, built as JSON text directly (see infoLineWriter). */
  function changed(change: StateChange, dcname: string, revision: number): void {
    let line = `"change":"${change}","dcname":${JSON.stringify(dcname)},"revision":${revision}`
    if (tracing.enabled) {
      const context = tracing.active()
      const requestId = context.getValue(REQUEST_ID_KEY)
      if (typeof requestId === 'string') line += `,"request_id":${JSON.stringify(requestId)}`
      const spanContext = trace.getSpanContext(context)
      if (spanContext) line += `,"trace_id":"${spanContext.traceId}"`
    }
    writeInfo(line, `config ${change}`)
  }

  return {
    // Not observed: cheap counters, the feed's subscription (it lives as long as its subscriber),
    // and what the decorator has nothing to say of.
    ...passOn(store, ['backend', 'schemas', 'countHistory', 'droppedHistory', 'subscribe', 'close']),
    get: (dcname: string) => observe('get', () => store.get(dcname)),
    list: (query: ListQuery) => observe('list', () => store.list(query)),
    count: () => observe('count', () => store.count()),
    async create(config: Config, meta: WriteMeta) {
      const stored = await observe('create', () => store.create(config, meta))
      if (!meta.dryRun) changed('created', stored.config.dcname, stored.revision)
      return stored
    },
    async replace(config: Config, precondition: Precondition, meta: WriteMeta) {
      const result = await observe('replace', () => store.replace(config, precondition, meta))
      if (!meta.dryRun) changed(result.created ? 'created' : 'replaced', config.dcname, result.stored.revision)
      return result
    },
    async update(dcname: string, change: (current: Config) => Config, precondition: Precondition, meta: WriteMeta) {
      const stored = await observe('update', () => store.update(dcname, change, precondition, meta))
      if (!meta.dryRun) changed('patched', dcname, stored.revision)
      return stored
    },
    async delete(dcname: string, precondition: Precondition, meta: WriteMeta) {
      const revision = await observe('delete', () => store.delete(dcname, precondition, meta))
      if (!meta.dryRun) changed('deleted', dcname, revision)
      return revision
    },
    async rollback(dcname: string, revision: number, precondition: Precondition, meta: WriteMeta) {
      const result = await observe('rollback', () => store.rollback(dcname, revision, precondition, meta))
      if (!meta.dryRun) changed(result.created ? 'created' : 'rolled back', dcname, result.stored.revision)
      return result
    },
    seed: (configs: Config[], meta: WriteMeta) => observe('seed', () => store.seed(configs, meta)),
    history: (dcname: string, query: HistoryQuery) => observe('history', () => store.history(dcname, query)),
    getAt: (dcname: string, revision: number) => observe('get_at', () => store.getAt(dcname, revision)),
    changesAfter: (query: ChangePageQuery) => observe('changes_after', () => store.changesAfter(query)),
    currentRevision: () => observe('current_revision', () => store.currentRevision()),
    ping: () => observe('ping', () => store.ping()),
  }
}

/** Answers such as "not found" or "conflict" are the store working; only real failures are errors. */
const EXPECTED = [NotFoundError, ConflictError, PreconditionFailedError, HistoryCompactedError, RevisionCompactedError]

function recordError(span: Span, error: unknown): void {
  const name = error instanceof Error ? error.name : typeof error
  span.setAttribute('error.type', name)
  if (EXPECTED.some((type) => error instanceof type)) return
  span.recordException(error instanceof Error ? error : String(error))
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined })
}
