import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import pkg from '../../package.json' with { type: 'json' }
import { type Family, parseExposition, sampleValue, seriesOf } from '../support/exposition-parser.ts'
import { inProcessService } from './in-process.ts'

type Service = Awaited<ReturnType<typeof inProcessService>>
let service: Service

beforeEach(async () => {
  service = await inProcessService()
})
afterEach(async () => {
  await service.close()
})

async function scrape(): Promise<Map<string, Family>> {
  const response = await service.request('/metrics')
  expect(response.status).toBe(200)
  return parseExposition(await response.text())
}

const json = (body: unknown, method = 'POST') => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})
const config = (dcname: string) => ({ dcname, metadata: { monitoring: { enabled: true } } })

/** Requests and what each should be counted as: `method route status`. */
const TRAFFIC: [string, RequestInit, string][] = [
  ['/configs/datacenter-1', {}, 'GET /configs/:dcname 200'],
  ['/configs/datacenter-1', {}, 'GET /configs/:dcname 200'],
  ['/configs/datacenter-1', {}, 'GET /configs/:dcname 200'],
  ['/configs/missing', {}, 'GET /configs/:dcname 404'],
  ['/configs/missing', {}, 'GET /configs/:dcname 404'],
  ['/configs', json(config('dc-x')), 'POST /configs 201'],
  ['/configs', json(config('dc-x')), 'POST /configs 409'],
  [
    '/configs',
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"dcname":' },
    'POST /configs 400',
  ],
  ['/configs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }, 'POST /configs 415'],
  ['/configs/dc-x', json({ metadata: { team: 'a' } }, 'PUT'), 'PUT /configs/:dcname 200'],
  ['/configs/dc-x', json({ metadata: { team: 'b' } }, 'PATCH'), 'PATCH /configs/:dcname 200'],
  ['/configs/dc-x', { method: 'DELETE' }, 'DELETE /configs/:dcname 204'],
  ['/configs/datacenter-1', json({}, 'POST'), 'POST /configs/:dcname 405'],
  ['/nowhere', {}, 'GET unmatched 404'],
  ['/nowhere/else?x=1', {}, 'GET unmatched 404'],
  ['/search?metadata.monitoring.enabled=true', {}, 'GET /search 200'],
  ['/configs', {}, 'GET /configs 200'],
]

function key(method: string, route: string, status: string): string {
  return `method=${method},route=${route},status=${status}`
}

describe('GET /metrics', () => {
  it('when scraped, then it answers the 0.0.4 text format whose every line parses strictly', async () => {
    const response = await service.request('/metrics')
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const families = parseExposition(await response.text())
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds',
      'http_requests_in_flight',
      'configs',
      'history_entries',
      'history_entries_dropped_total',
      'store_operation_duration_seconds',
      'watchers_connected',
      'config_service_build_info',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      expect(families.has(name)).toBe(true)
    }
    expect(families.get('http_request_duration_seconds')?.type).toBe('histogram')
    expect(families.get('http_requests_total')?.type).toBe('counter')
  })

  it('when requests come before the first scrape (which loads prom-client), then that scrape counts them all', async () => {
    for (let i = 0; i < 3; i++) await service.request('/configs/datacenter-1').then((r) => r.arrayBuffer())
    const families = await scrape()
    const labels = { method: 'GET', route: '/configs/:dcname', status: '200' }
    expect(sampleValue(families, 'http_requests_total', labels)).toBe(3)
    expect(sampleValue(families, 'http_request_duration_seconds_count', labels)).toBe(3)
    expect(
      sampleValue(families, 'store_operation_duration_seconds_count', { operation: 'get', backend: 'sqlite' }),
    ).toBe(3)
  })

  it('when access decisions and history come before the first scrape, then that scrape has every family, each result from 0', async () => {
    const guarded = await inProcessService({ API_TOKEN: 'secret-token' })
    try {
      const denied = await guarded.request('/configs/dc-x', json({ metadata: {} }, 'PUT'))
      expect(denied.status).toBe(401)
      const allowed = await guarded.request('/configs/dc-x', {
        ...json({ metadata: {} }, 'PUT'),
        headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token' },
      })
      expect(allowed.status).toBe(201)
      const families = parseExposition(await (await guarded.request('/metrics')).text())
      for (const name of [
        'history_entries',
        'history_entries_dropped_total',
        'auth_decisions_total',
        'auth_token_file_reloads_total',
        'log_lines_dropped_total',
        'watchers_dropped_total',
        'cache_wait_seconds',
        'cache_revision_lag',
      ]) {
        expect(`${name} ${families.has(name)}`).toBe(`${name} true`)
      }
      expect(sampleValue(families, 'auth_decisions_total', { result: 'unauthenticated' })).toBe(1)
      expect(sampleValue(families, 'auth_decisions_total', { result: 'forbidden' })).toBe(0)
      expect(sampleValue(families, 'auth_decisions_total', { result: 'allowed' })).toBeGreaterThanOrEqual(1)
      expect(sampleValue(families, 'auth_token_file_reloads_total', { result: 'ok' })).toBe(0)
      expect(sampleValue(families, 'auth_token_file_reloads_total', { result: 'error' })).toBe(0)
      expect(sampleValue(families, 'history_entries')).toBe(await guarded.store.countHistory())
    } finally {
      await guarded.close()
    }
  })

  it('when requests are sent, then the counters and histograms move by exactly those requests, per method, route and status', async () => {
    const before = await scrape()
    const expected = new Map<string, number>()
    for (const [path, init, counted] of TRAFFIC) {
      const response = await service.request(path, init)
      const [method = '', route = '', status = ''] = counted.split(' ')
      expect(`${path} ${response.status}`).toBe(`${path} ${status}`)
      const k = key(method, route, status)
      expected.set(k, (expected.get(k) ?? 0) + 1)
    }
    // The first scrape is a request too, counted once it has answered.
    expected.set(key('GET', '/metrics', '200'), 1)
    const after = await scrape()

    for (const sampleName of ['http_requests_total', 'http_request_duration_seconds_count']) {
      const was = seriesOf(before, sampleName)
      const now = seriesOf(after, sampleName)
      const moved = new Map<string, number>()
      for (const [series, value] of now) {
        const delta = value - (was.get(series) ?? 0)
        if (delta !== 0) moved.set(series, delta)
      }
      expect(Object.fromEntries(moved)).toEqual(Object.fromEntries(expected))
    }
  })

  it('when random paths and methods are scanned, then the route and method labels stay within a fixed set', async () => {
    const seriesCount = async () => seriesOf(await scrape(), 'http_requests_total').size
    const scan = async (count: number) => {
      const methods = ['GET', 'POST', 'DELETE', 'PROPFIND', 'BREW', 'PUT']
      for (let i = 0; i < count; i++) {
        const random = crypto.randomUUID()
        const path = [`/${random}`, `/configs/${random}/x`, `/a/${random}/b/${i}`, `/${random}.php?id=${i}`][i % 4]
        await service.request(path ?? '/', { method: methods[i % methods.length] })
      }
    }
    await scrape() // so that GET /metrics has its series before the counting starts
    await scan(60)
    const afterFirstScan = await seriesCount()
    await scan(120)
    expect(await seriesCount()).toBe(afterFirstScan)

    const routes = new Set<string>()
    const methods = new Set<string>()
    for (const series of seriesOf(await scrape(), 'http_requests_total').keys()) {
      const labels = Object.fromEntries(series.split(',').map((pair) => pair.split('=') as [string, string]))
      routes.add(labels.route ?? '')
      methods.add(labels.method ?? '')
    }
    expect([...routes].sort()).toEqual(['/metrics', 'unmatched'])
    expect([...methods].sort()).toEqual(['DELETE', 'GET', 'OTHER', 'POST', 'PUT'])
  })

  it('when configs are created and deleted, then the configs gauge follows the stored count', async () => {
    expect(sampleValue(await scrape(), 'configs')).toBe(2)
    await service.request('/configs', json(config('dc-a')))
    await service.request('/configs', json(config('dc-b')))
    expect(sampleValue(await scrape(), 'configs')).toBe(4)
    await service.request('/configs/dc-a', { method: 'DELETE' })
    expect(sampleValue(await scrape(), 'configs')).toBe(3)
  })

  it('when configs are written, then history_entries follows the stored entries and retention drops are counted', async () => {
    await service.close()
    service = await inProcessService({ HISTORY_KEEP: '1', HISTORY_RETENTION_DAYS: '0', WATCH_HISTORY_SIZE: '1' })
    // The two seeded configs have one entry each.
    expect(sampleValue(await scrape(), 'history_entries')).toBe(2)
    expect(sampleValue(await scrape(), 'history_entries_dropped_total')).toBe(0)
    for (const team of ['a', 'b', 'c']) await service.request('/configs/dc-x', json({ metadata: { team } }, 'PUT'))
    expect(sampleValue(await scrape(), 'history_entries')).toBe(5)
    // Retention runs in the background within seconds: dc-x keeps its newest entry only.
    const deadline = Date.now() + 5000
    while (sampleValue(await scrape(), 'history_entries') !== 3 && Date.now() < deadline) await Bun.sleep(50)
    const after = await scrape()
    expect(sampleValue(after, 'history_entries')).toBe(3)
    expect(sampleValue(after, 'history_entries_dropped_total')).toBe(2)
  })

  it('when configs are read, then the store latency histogram counts each read by operation and backend', async () => {
    const labels = { operation: 'get', backend: 'sqlite' }
    const before = sampleValue(await scrape(), 'store_operation_duration_seconds_count', labels) ?? 0
    for (let i = 0; i < 4; i++) await service.request('/configs/datacenter-2')
    const after = await scrape()
    expect(sampleValue(after, 'store_operation_duration_seconds_count', labels)).toBe(before + 4)
    expect(sampleValue(after, 'store_operation_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(before + 4)
  })

  it('when a watch stream is open, then the watchers gauge counts it, and not once it is closed', async () => {
    expect(sampleValue(await scrape(), 'watchers_connected')).toBe(0)
    const watch = await service.request('/configs?watch=true')
    expect(watch.status).toBe(200)
    expect(sampleValue(await scrape(), 'watchers_connected')).toBe(1)
    await watch.body?.cancel()
    expect(sampleValue(await scrape(), 'watchers_connected')).toBe(0)
  })

  it('when scraped, then build info names the package version and the runtime', async () => {
    const info = (await scrape()).get('config_service_build_info')?.samples[0]
    expect(info?.labels).toEqual({ version: pkg.version, runtime: 'bun', runtime_version: Bun.version })
    expect(info?.value).toBe(1)
  })

  it('when a request is being handled, then it is counted in flight', async () => {
    // The scrape itself is the request in flight while the gauge is read.
    expect(sampleValue(await scrape(), 'http_requests_in_flight')).toBe(1)
  })
})
