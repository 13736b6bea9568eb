/**
 * How big /metrics gets, on a real Bun and a real Deno process. The exposition grows by one
 * histogram series (17 lines) per (method, route, status) answered and one per store operation
 * used; it stays bounded because route and method labels come from closed sets. These are the
 * figures docs/OPERATIONS.md gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { parseExposition, seriesOf } from '../support/exposition-parser.ts'
import { type RunningServer, type Runtime, startServer } from '../support/server.ts'
import { PROCESS_WAIT_MS } from '../support/wait.ts'

const TOKEN = 'metrics-size-token'
/** A fresh service exported 12,274 bytes once config_consumers was added (its three states). */
const FRESH_MAX_BYTES = 13_000
const VARIED_MAX_BYTES = 70_000
const SCANNED_MAX_BYTES = 100_000

/** A hundred requests a new user might send: every route, its successes and its usual errors. */
function variedTraffic(): [string, RequestInit][] {
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
  const json = (method: string, body: unknown, headers: Record<string, string> = auth): RequestInit => ({
    method,
    headers,
    body: JSON.stringify(body),
  })
  const traffic: [string, RequestInit][] = [
    ['/swagger', {}],
    ['/swagger/json', {}],
  ]
  for (let i = 0; i < 5; i++) {
    const name = `dc-${i}`
    traffic.push(
      ['/configs', {}],
      ['/configs/datacenter-1', {}],
      [`/configs/${name}`, {}],
      ['/configs', json('POST', { dcname: name, metadata: {} })],
      ['/configs', json('POST', { dcname: name, metadata: {} })],
      ['/configs', json('POST', { dcname: name })],
      ['/configs', json('POST', { dcname: name }, { 'content-type': 'application/json' })],
      ['/configs', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'x' }],
      [`/configs/${name}`, json('PUT', { metadata: { a: 1 } })],
      [`/configs/new-${name}`, json('PUT', { metadata: { a: 1 } })],
      [`/configs/${name}`, json('PATCH', { metadata: { a: 2 } }, { ...auth, 'if-match': '"1"' })],
      [`/configs/${name}`, json('PATCH', { metadata: { b: 1 } })],
      ['/search?metadata.a=1', {}],
      ['/search?colour=red', {}],
      [`/configs/${name}`, { method: 'DELETE', headers: auth }],
      [`/configs/${name}`, { method: 'DELETE', headers: auth }],
      [`/nowhere/${i}`, {}],
      ['/configs', { method: 'DELETE', headers: auth }],
      ['/healthz', {}],
      ['/readyz', {}],
    )
  }
  return traffic
}

/** Random paths with every kind of method, as a scanner sends them. */
async function scan(server: RunningServer, count: number): Promise<void> {
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'BREW']
  for (let i = 0; i < count; i++) {
    const path = [`/${crypto.randomUUID()}`, `/configs/${crypto.randomUUID()}/x`, `/wp-login.php?i=${i}`][i % 3]
    const headers: Record<string, string> = i % 2 ? { authorization: `Bearer ${TOKEN}` } : {}
    await (await fetch(`${server.url}${path}`, { method: methods[i % methods.length], headers })).arrayBuffer()
  }
}

async function scrape(server: RunningServer) {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const families = parseExposition(text)
  return { bytes: new TextEncoder().encode(text).byteLength, http: seriesOf(families, 'http_requests_total') }
}

interface AccessLine {
  msg: string
  method: string
  route: string
  status: number
}

/** The access lines of the process, once at least `count` have been written. */
async function accessLines(server: RunningServer, count: number): Promise<AccessLine[]> {
  const deadline = Date.now() + PROCESS_WAIT_MS
  for (;;) {
    const lines = server.lines.filter((line): line is AccessLine => (line as AccessLine)?.msg === 'request')
    if (lines.length >= count || Date.now() > deadline) return lines
    await Bun.sleep(20)
  }
}

for (const runtime of ['bun', 'deno'] as Runtime[]) {
  describe(`/metrics size on ${runtime}`, () => {
    let server: RunningServer

    beforeAll(async () => {
      server = await startServer({ runtime, env: { API_TOKEN: TOKEN } })
    })
    afterAll(async () => {
      await server?.stop()
    })

    it('when fresh, then the exposition is small; after a hundred varied requests it holds one series per method, route and status answered', async () => {
      expect((await scrape(server)).bytes).toBeLessThan(FRESH_MAX_BYTES)

      const traffic = variedTraffic()
      expect(traffic.length).toBeGreaterThanOrEqual(100)
      for (const [path, init] of traffic) await (await fetch(`${server.url}${path}`, init)).arrayBuffer()
      const after = await scrape(server)
      expect(after.bytes).toBeLessThan(VARIED_MAX_BYTES)

      // Exactly the combinations the access log shows (both scrapes are GET /metrics 200).
      const logged = await accessLines(server, traffic.length + 2)
      const answered = new Set(logged.map((l) => `method=${l.method},route=${l.route},status=${l.status}`))
      expect([...after.http.keys()].sort()).toEqual([...answered].sort())
      expect(answered.size).toBeGreaterThan(20)
    })

    it('when random paths and methods are scanned, then only a few unmatched series are added once, and the size stays bounded', async () => {
      const before = await scrape(server)
      await scan(server, 300)
      const afterFirst = await scrape(server)
      const added = [...afterFirst.http.keys()].filter((key) => !before.http.has(key))
      for (const key of added) expect(key).toMatch(/,route=unmatched,/)
      // One per method label (nine known methods and OTHER), each a 404 or, for writes, a 401.
      expect(added.length).toBeLessThanOrEqual(14)
      expect(afterFirst.bytes).toBeLessThan(SCANNED_MAX_BYTES)

      await scan(server, 300)
      const afterSecond = await scrape(server)
      expect([...afterSecond.http.keys()].sort()).toEqual([...afterFirst.http.keys()].sort())
      // Only counts and sums moved: a few more digits at most.
      expect(afterSecond.bytes - afterFirst.bytes).toBeLessThan(1_000)
    })
  })
}
