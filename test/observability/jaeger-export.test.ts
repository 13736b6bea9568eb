/**
 * The real service process with OTEL_TRACES_EXPORTER=jaeger (the legacy Thrift exporter), once
 * against a collector endpoint (Thrift over HTTP, POST /api/traces) and once against an agent
 * (Thrift over UDP), both listeners opened by this test on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Server, udp } from 'bun'
import { type RunningServer, startServer } from '../support/server.ts'
import { decodeStruct, type JaegerSpan, jaegerSpans, jaegerSpansFromAgentPacket } from '../support/thrift.ts'
import { waitFor } from '../support/wait.ts'
import { randomHex } from './trace-ids.ts'

const received = { collector: [] as JaegerSpan[], agent: [] as JaegerSpan[] }
const contentTypes: string[] = []
let collector: Server<undefined>
let agent: udp.Socket<'uint8array'>
let viaCollector: RunningServer
let viaAgent: RunningServer

beforeAll(async () => {
  collector = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      if (request.method !== 'POST' || new URL(request.url).pathname !== '/api/traces') {
        return new Response(null, { status: 404 })
      }
      contentTypes.push(request.headers.get('content-type') ?? '')
      received.collector.push(...jaegerSpans(decodeStruct(new Uint8Array(await request.arrayBuffer()))))
      return new Response(null, { status: 202 })
    },
  })
  agent = await Bun.udpSocket({
    hostname: '127.0.0.1',
    port: 0,
    binaryType: 'uint8array',
    socket: {
      data(_socket, packet) {
        received.agent.push(...jaegerSpansFromAgentPacket(packet))
      },
    },
  })
  const common = { OTEL_TRACES_EXPORTER: 'jaeger', OTEL_BSP_SCHEDULE_DELAY: '50' }
  ;[viaCollector, viaAgent] = await Promise.all([
    startServer({
      env: {
        ...common,
        OTEL_SERVICE_NAME: 'config-service-collector',
        OTEL_EXPORTER_JAEGER_ENDPOINT: `http://127.0.0.1:${collector.port}/api/traces`,
      },
    }),
    startServer({
      env: {
        ...common,
        OTEL_SERVICE_NAME: 'config-service-agent',
        OTEL_EXPORTER_JAEGER_AGENT_HOST: '127.0.0.1',
        OTEL_EXPORTER_JAEGER_AGENT_PORT: String(agent.port),
      },
    }),
  ])
})

afterAll(async () => {
  await Promise.all([viaCollector?.stop(), viaAgent?.stop()])
  await collector?.stop(true)
  agent?.close()
})

const spanIn = (spans: JaegerSpan[], predicate: (span: JaegerSpan) => boolean): Promise<JaegerSpan> =>
  waitFor(
    () => spans.find(predicate),
    10_000,
    () => `a matching span; got ${spans.map((s) => s.operationName).join(', ')}`,
  )

describe('Jaeger export', () => {
  for (const [path, name] of [
    ['collector', () => viaCollector],
    ['agent', () => viaAgent],
  ] as const) {
    it(`when a request carries uber-trace-id, then its span reaches the ${path} as a child of the caller, with its store span`, async () => {
      const traceId = randomHex(16)
      const callerSpanId = randomHex(8)
      const response = await fetch(`${name().url}/configs/datacenter-1`, {
        headers: { 'uber-trace-id': `${traceId}:${callerSpanId}:0:1` },
      })
      expect(response.status).toBe(200)

      const spans = received[path]
      const serverSpan = await spanIn(spans, (s) => s.traceId === traceId && s.operationName.startsWith('GET '))
      expect(serverSpan.serviceName).toBe(`config-service-${path}`)
      expect(serverSpan.operationName).toBe('GET /configs/:dcname')
      expect(serverSpan.parentSpanId).toBe(callerSpanId)
      expect(serverSpan.tags['http.route']).toBe('/configs/:dcname')

      const storeSpan = await spanIn(spans, (s) => s.traceId === traceId && s.operationName === 'get configs')
      expect(storeSpan.parentSpanId).toBe(serverSpan.spanId)
      expect(storeSpan.tags['db.system']).toBe('sqlite')
    })
  }

  it('when spans go to the collector, then they travel as Thrift over HTTP', () => {
    expect(contentTypes.length).toBeGreaterThan(0)
    expect(new Set(contentTypes)).toEqual(new Set(['application/x-thrift']))
  })

  it('when the service runs with the Jaeger exporter, then nothing is written to stderr', () => {
    expect(viaCollector.stderr).toEqual([])
    expect(viaAgent.stderr).toEqual([])
  })
})
