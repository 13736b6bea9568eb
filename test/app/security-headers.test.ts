/**
 * Every answer of the app carries nosniff, refuses framing and has a Content-Security-Policy:
 * the pages their own, everything else `default-src 'none'`. In-process, through app.handle,
 * on the service wired as main.ts wires it; test/http/security-headers.test.ts asks the same of
 * real Bun and Deno processes.
 */
import { afterAll, beforeAll, describe, it } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { metricsHandler } from '../../src/metrics-listener.ts'
import { expectSecurityHeaders, headerCases } from '../http/security-header-cases.ts'
import { inProcessService } from '../observability/in-process.ts'

const token = randomBytes(16).toString('hex')
let service: Awaited<ReturnType<typeof inProcessService>>

beforeAll(async () => {
  service = await inProcessService({ API_TOKEN: token })
})

afterAll(async () => {
  await service?.close()
})

describe('security headers, in-process', () => {
  for (const each of headerCases(token)) {
    it(`when ${each.name} is answered, then it carries nosniff, refuses framing and has the ${each.kind === 'page' ? "page's" : 'API'} policy`, async () => {
      const response = await service.request(each.path, { method: each.method, headers: each.headers, body: each.body })
      await response.body?.cancel()
      if (response.status !== each.status) throw new Error(`${each.name}: answered ${response.status}`)
      expectSecurityHeaders(response.headers, each.kind)
    })
  }
})

describe('security headers of the METRICS_PORT listener', () => {
  for (const [method, path, status] of [
    ['GET', '/metrics', 200],
    ['POST', '/metrics', 405],
    ['GET', '/configs', 404],
  ] as const) {
    it(`when ${method} ${path} (${status}) is answered there, then it carries nosniff, refuses framing and has the API policy`, async () => {
      const response = await metricsHandler(service.metrics)(new Request(`http://localhost${path}`, { method }))
      await response.body?.cancel()
      if (response.status !== status) throw new Error(`${method} ${path}: answered ${response.status}`)
      expectSecurityHeaders(response.headers, 'other')
    })
  }
})
