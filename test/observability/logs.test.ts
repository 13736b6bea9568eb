/**
 * The log stream of the real service process: stdout only, every line JSON, one access line per
 * request whose trace id is the one exported, one line per state change, and no credential
 * anywhere, even for requests that fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.ts'
import { type RunningServer, startServer } from '../support/server.ts'
import { PROCESS_WAIT_MS } from '../support/wait.ts'
import { randomHex } from './trace-ids.ts'

const TOKEN = 'tok-7f3a9c1e5b-secret'
type Line = Record<string, unknown>

let receiver: OtlpReceiver
let server: RunningServer

beforeAll(async () => {
  receiver = startOtlpReceiver()
  server = await startServer({
    env: {
      API_TOKEN: TOKEN,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  })
})

afterAll(async () => {
  await server?.stop()
  await receiver?.stop()
})

const authorized = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }

/** Waits (bounded) for the access line of the request with this id. */
async function accessLine(requestId: string): Promise<Line> {
  const deadline = Date.now() + PROCESS_WAIT_MS
  for (;;) {
    const line = server.lines.find((l) => (l as Line).msg === 'request' && (l as Line).request_id === requestId)
    if (line) return line as Line
    if (Date.now() > deadline) throw new Error(`no access line for ${requestId}`)
    await Bun.sleep(10)
  }
}

async function send(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const requestId = `test-${randomHex(6)}`
  const response = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { 'x-request-id': requestId, ...init.headers },
  })
  await response.arrayBuffer()
  return { response, requestId }
}

describe('logs', () => {
  it('when a request is served, then one access line has its method, path, route, status, duration, ids and user agent, and its trace id is the exported one', async () => {
    const traceId = randomHex(16)
    const { response, requestId } = await send('/configs/datacenter-1?x=1', {
      headers: { traceparent: `00-${traceId}-${randomHex(8)}-01`, 'user-agent': 'log-test/2.0' },
    })
    expect(response.headers.get('x-request-id')).toBe(requestId)
    const line = await accessLine(requestId)
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request',
      method: 'GET',
      path: '/configs/datacenter-1',
      route: '/configs/:dcname',
      status: 200,
      request_id: requestId,
      trace_id: traceId,
      user_agent: 'log-test/2.0',
    })
    expect(typeof line.duration_ms).toBe('number')
    expect(line.duration_ms as number).toBeGreaterThan(0)
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/)

    const exported = await receiver.waitForSpan((s) => s.traceId === traceId && s.name === 'GET /configs/:dcname')
    expect(line.span_id).toBe(exported.spanId)
    expect(
      server.lines.filter((l) => (l as Line).request_id === requestId && (l as Line).msg === 'request'),
    ).toHaveLength(1)
  })

  it('when configs are created, replaced, patched and deleted, then each change is one line with its dcname and revision', async () => {
    const create = await send('/configs', {
      method: 'POST',
      headers: authorized,
      body: JSON.stringify({ dcname: 'dc-log', metadata: {} }),
    })
    const replace = await send('/configs/dc-log', { method: 'PUT', headers: authorized, body: '{"metadata":{"a":1}}' })
    const patch = await send('/configs/dc-log', {
      method: 'PATCH',
      headers: { ...authorized, 'content-type': 'application/merge-patch+json' },
      body: '{"metadata":{"b":2}}',
    })
    const remove = await send('/configs/dc-log', { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })
    await accessLine(remove.requestId)

    const revisionOf = (response: Response) => Number(response.headers.get('etag')?.replaceAll('"', ''))
    const changes = server.lines.filter((l) => (l as Line).dcname === 'dc-log' && (l as Line).change) as Line[]
    expect(
      changes.map(({ change, dcname, revision, request_id }) => ({ change, dcname, revision, request_id })),
    ).toEqual([
      { change: 'created', dcname: 'dc-log', revision: revisionOf(create.response), request_id: create.requestId },
      { change: 'replaced', dcname: 'dc-log', revision: revisionOf(replace.response), request_id: replace.requestId },
      { change: 'patched', dcname: 'dc-log', revision: revisionOf(patch.response), request_id: patch.requestId },
      { change: 'deleted', dcname: 'dc-log', revision: revisionOf(patch.response) + 1, request_id: remove.requestId },
    ])
  })

  it('when requests carry the API token, also on failing and refused requests, then neither the token nor the Authorization header appears in any line', async () => {
    await send('/configs', { method: 'POST', headers: authorized, body: '{"dcname": broken' })
    await send('/configs/missing', { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })
    await send('/configs', {
      method: 'POST',
      headers: { ...authorized, authorization: `Bearer ${TOKEN}x` },
      body: '{}',
    })
    await send('/configs', { method: 'POST', headers: { authorization: `Basic ${btoa(`user:${TOKEN}`)}` }, body: '{}' })
    const last = await send(`/configs/${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    await accessLine(last.requestId)

    const statuses = server.lines.filter((l) => (l as Line).msg === 'request').map((l) => (l as Line).status)
    expect(statuses).toEqual(expect.arrayContaining([400, 404, 401]))
    for (const raw of server.rawStdout) {
      // The last request put the token in its path on purpose: only that access line may carry it.
      if (raw.includes(last.requestId)) continue
      expect(raw).not.toContain(TOKEN)
      expect(raw).not.toContain(btoa(`user:${TOKEN}`))
      expect(raw.toLowerCase()).not.toContain('authorization')
      expect(raw).not.toContain('Bearer')
    }
  })

  it('when the service runs, then every stdout line is a JSON object and nothing reaches stderr', () => {
    expect(server.rawStdout.length).toBeGreaterThan(5)
    for (const raw of server.rawStdout) {
      const parsed = JSON.parse(raw) as unknown
      expect(typeof parsed).toBe('object')
    }
    expect(server.stderr).toEqual([])
  })
})
