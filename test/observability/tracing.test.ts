/**
 * Spans of the in-process service, exported as JSON lines (OTEL_TRACES_EXPORTER=console):
 * propagation in, parent/child structure across awaits and concurrent requests, status.
 */
import { afterEach, describe, expect, it } from 'bun:test'
import { inProcessService, type LogLine } from './in-process.ts'
import { randomHex } from './trace-ids.ts'

interface SpanLine {
  name: string
  kind: string
  trace_id: string
  span_id: string
  parent_span_id?: string
  status: string
  attributes: Record<string, unknown>
}

type Service = Awaited<ReturnType<typeof inProcessService>>
const services: Service[] = []

async function traced(): Promise<Service> {
  const service = await inProcessService({ OTEL_TRACES_EXPORTER: 'console', OTEL_BSP_SCHEDULE_DELAY: '10' })
  services.push(service)
  return service
}

afterEach(async () => {
  for (const service of services.splice(0)) await service.close().catch(() => {})
})

/** Waits (bounded) until spans of `traceId` include one of each kind asked for. */
async function spansOf(service: Service, traceId: string, kinds = ['SERVER', 'CLIENT']): Promise<SpanLine[]> {
  const deadline = Date.now() + 5000
  for (;;) {
    const spans = service.lines
      .map((line: LogLine) => line.span as SpanLine | undefined)
      .filter((span): span is SpanLine => span?.trace_id === traceId)
    if (kinds.every((kind) => spans.some((span) => span.kind === kind))) return spans
    if (Date.now() > deadline) throw new Error(`spans of ${traceId}: ${JSON.stringify(spans)}`)
    await Bun.sleep(10)
  }
}

const serverSpan = (spans: SpanLine[]) => spans.find((span) => span.kind === 'SERVER') as SpanLine
const storeSpan = (spans: SpanLine[]) => spans.find((span) => span.kind === 'CLIENT') as SpanLine

describe('tracing', () => {
  it('when a request carries a W3C traceparent, then the server span continues it and the store span is its child', async () => {
    const service = await traced()
    const traceId = randomHex(16)
    const caller = randomHex(8)
    await service.request('/configs/datacenter-1', { headers: { traceparent: `00-${traceId}-${caller}-01` } })
    const spans = await spansOf(service, traceId)
    expect(serverSpan(spans)).toMatchObject({ name: 'GET /configs/:dcname', parent_span_id: caller })
    expect(storeSpan(spans)).toMatchObject({
      name: 'get configs',
      parent_span_id: serverSpan(spans).span_id,
      attributes: { 'db.system': 'sqlite', 'db.operation.name': 'get' },
    })
  })

  it('when a request carries a Jaeger uber-trace-id, then the server span continues that trace', async () => {
    const service = await traced()
    const traceId = randomHex(16)
    const caller = randomHex(8)
    await service.request('/configs', { headers: { 'uber-trace-id': `${traceId}:${caller}:0:1` } })
    const spans = await spansOf(service, traceId)
    expect(serverSpan(spans)).toMatchObject({ name: 'GET /configs', parent_span_id: caller })
    expect(storeSpan(spans)).toMatchObject({ name: 'list configs', parent_span_id: serverSpan(spans).span_id })
  })

  it('when a request carries both headers, then the W3C traceparent wins', async () => {
    const service = await traced()
    const w3c = randomHex(16)
    await service.request('/configs/datacenter-1', {
      headers: { traceparent: `00-${w3c}-${randomHex(8)}-01`, 'uber-trace-id': `${randomHex(16)}:${randomHex(8)}:0:1` },
    })
    expect(serverSpan(await spansOf(service, w3c, ['SERVER'])).name).toBe('GET /configs/:dcname')
  })

  it('when requests run concurrently, then every store span is the child of its own request span', async () => {
    const service = await traced()
    const traceIds = Array.from({ length: 24 }, () => randomHex(16))
    await Promise.all(
      traceIds.map((traceId, i) =>
        service.request(i % 2 ? '/configs/datacenter-1' : '/search?dcname=datacenter-2', {
          headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` },
        }),
      ),
    )
    for (const traceId of traceIds) {
      const spans = await spansOf(service, traceId)
      expect(spans).toHaveLength(2)
      expect(storeSpan(spans).parent_span_id).toBe(serverSpan(spans).span_id)
    }
  })

  it('when the access line is written, then it names the server span', async () => {
    const service = await traced()
    const traceId = randomHex(16)
    await service.request('/configs/datacenter-2', { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } })
    const spans = await spansOf(service, traceId)
    expect(service.accessLines().at(-1)).toMatchObject({ trace_id: traceId, span_id: serverSpan(spans).span_id })
  })

  it('when a request fails with a server error, then its span has status ERROR and the store span records the failure', async () => {
    const service = await traced()
    await service.store.close() // the store is gone: reads now fail inside the backend
    const traceId = randomHex(16)
    const response = await service.request('/configs/datacenter-1', {
      headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` },
    })
    expect(response.status).toBeGreaterThanOrEqual(500)
    const spans = await spansOf(service, traceId)
    expect(serverSpan(spans)).toMatchObject({
      status: 'ERROR',
      attributes: { 'http.response.status_code': response.status, 'error.type': String(response.status) },
    })
    expect(storeSpan(spans).status).toBe('ERROR')
  })

  it('when tracing is off, then access lines carry the caller trace id and a span id, and no span is made', async () => {
    const service = await inProcessService()
    services.push(service)
    const traceId = randomHex(16)
    await service.request('/configs/datacenter-1', {
      headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` },
    })
    const line = service.accessLines().at(-1)
    expect(line?.status).toBe(200)
    expect(line?.trace_id).toBe(traceId)
    expect(line?.span_id).toMatch(/^[0-9a-f]{16}$/)
    expect(service.lines.some((l) => 'span' in l)).toBe(false)
  })

  it('when tracing is off, then a Jaeger caller trace id is kept and a request without one gets a fresh id', async () => {
    const service = await inProcessService()
    services.push(service)
    const jaegerTrace = randomHex(8)
    await service.request('/configs', { headers: { 'uber-trace-id': `${jaegerTrace}:${randomHex(8)}:0:1` } })
    expect(service.accessLines().at(-1)?.trace_id).toBe(jaegerTrace.padStart(32, '0'))
    await service.request('/configs')
    await service.request('/configs')
    const [first, second] = service.accessLines().slice(-2)
    expect(first?.trace_id).toMatch(/^[0-9a-f]{32}$/)
    expect(first?.trace_id).not.toBe(second?.trace_id)
  })
})
