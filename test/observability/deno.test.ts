/**
 * The same observability on Deno: one Deno-started service, scraped and traced over HTTP.
 * Deno implements a different part of the Node API than Bun (process metrics, AsyncLocalStorage),
 * so the scrape must still parse strictly and store spans must still find their request span.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { parseExposition, sampleValue } from '../support/exposition-parser.ts'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.ts'
import { type RunningServer, startServer } from '../support/server.ts'
import { randomHex } from './trace-ids.ts'

let receiver: OtlpReceiver
let server: RunningServer

beforeAll(async () => {
  receiver = startOtlpReceiver()
  server = await startServer({
    runtime: 'deno',
    env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' },
  })
})

afterAll(async () => {
  await server?.stop()
  await receiver?.stop()
})

describe('observability on Deno', () => {
  it('when /metrics is scraped, then it parses strictly and counts the requests served, with Deno in build info', async () => {
    await fetch(`${server.url}/configs/datacenter-1`).then((r) => r.arrayBuffer())
    const response = await fetch(`${server.url}/metrics`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const families = parseExposition(await response.text())
    expect(
      sampleValue(families, 'http_requests_total', { method: 'GET', route: '/configs/:dcname', status: '200' }),
    ).toBe(1)
    expect(sampleValue(families, 'configs')).toBe(2)
    expect(families.get('config_service_build_info')?.samples[0]?.labels.runtime).toBe('deno')
    expect(families.has('process_resident_memory_bytes')).toBe(true)
  })

  it('when a traced request reads the store, then the store span is a child of the server span', async () => {
    const traceId = randomHex(16)
    const caller = randomHex(8)
    await fetch(`${server.url}/configs/datacenter-2`, { headers: { traceparent: `00-${traceId}-${caller}-01` } })
    const serverSpan = await receiver.waitForSpan((s) => s.traceId === traceId && s.name === 'GET /configs/:dcname')
    expect(serverSpan.parentSpanId).toBe(caller)
    const storeSpan = await receiver.waitForSpan((s) => s.traceId === traceId && s.name === 'get configs')
    expect(storeSpan.parentSpanId).toBe(serverSpan.spanId)
  })

  it('when the Deno service runs, then every stdout line is JSON and stderr stays empty', () => {
    for (const raw of server.rawStdout) expect(() => JSON.parse(raw)).not.toThrow()
    expect(server.stderr).toEqual([])
  })
})
