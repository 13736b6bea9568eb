/**
 * The real service process with OTEL_TRACES_EXPORTER=otlp, exporting to an OTLP/HTTP listener
 * this test opens on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.ts'
import { type RunningServer, startServer } from '../support/server.ts'
import { randomHex } from './trace-ids.ts'

const SPAN_KIND_SERVER = 2
const SPAN_KIND_CLIENT = 3
const STATUS_ERROR = 2

let receiver: OtlpReceiver
let server: RunningServer

beforeAll(async () => {
  receiver = startOtlpReceiver()
  server = await startServer({
    env: {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'config-service-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  })
})

afterAll(async () => {
  await server?.stop()
  await receiver?.stop()
})

describe('OTLP export', () => {
  it('when a request carries a W3C traceparent, then its server span is exported as a child of the caller, with the service name', async () => {
    const traceId = randomHex(16)
    const callerSpanId = randomHex(8)
    const response = await fetch(`${server.url}/configs/datacenter-1`, {
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01`, 'user-agent': 'otlp-test/1' },
    })
    expect(response.status).toBe(200)

    const span = await receiver.waitForSpan((s) => s.traceId === traceId && s.kind === SPAN_KIND_SERVER)
    expect(receiver.contentTypes[0]).toStartWith('application/json')
    expect(span.serviceName).toBe('config-service-under-test')
    expect(span.name).toBe('GET /configs/:dcname')
    expect(span.parentSpanId).toBe(callerSpanId)
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/configs/datacenter-1',
      'http.route': '/configs/:dcname',
      'http.response.status_code': 200,
      'server.port': server.port,
      'user_agent.original': 'otlp-test/1',
    })
  })

  it('when a request reads the store, then the store call is exported as a child span of the server span', async () => {
    const traceId = randomHex(16)
    await fetch(`${server.url}/configs/datacenter-2`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } })

    const serverSpan = await receiver.waitForSpan((s) => s.traceId === traceId && s.kind === SPAN_KIND_SERVER)
    const storeSpan = await receiver.waitForSpan((s) => s.traceId === traceId && s.kind === SPAN_KIND_CLIENT)
    expect(storeSpan.parentSpanId).toBe(serverSpan.spanId)
    expect(storeSpan.name).toBe('get configs')
    expect(storeSpan.attributes).toMatchObject({ 'db.system': 'sqlite', 'db.operation.name': 'get' })
  })

  it('when the service is stopped with SIGTERM, then spans still waiting for their batch are exported before it exits', async () => {
    // A batch delay far beyond the test: only the flush at shutdown can deliver this span.
    const patient = await startServer({
      env: {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      },
    })
    const traceId = randomHex(16)
    await fetch(`${patient.url}/configs/datacenter-1`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } })
    await Bun.sleep(200)
    expect(receiver.spans.some((s) => s.traceId === traceId)).toBe(false)
    expect(await patient.stop('SIGTERM')).toBe(0)
    expect(receiver.spans.filter((s) => s.traceId === traceId).map((s) => s.name)).toEqual(
      expect.arrayContaining(['GET /configs/:dcname', 'get configs']),
    )
  })

  it('when a request fails with a client error, then its span is not marked as an error but carries the status', async () => {
    const traceId = randomHex(16)
    const response = await fetch(`${server.url}/configs/nope`, {
      headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` },
    })
    expect(response.status).toBe(404)
    const span = await receiver.waitForSpan((s) => s.traceId === traceId && s.kind === SPAN_KIND_SERVER)
    expect(span.attributes['http.response.status_code']).toBe(404)
    expect(span.statusCode).not.toBe(STATUS_ERROR)
  })
})
