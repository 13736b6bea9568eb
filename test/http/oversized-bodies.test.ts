/**
 * Bodies over MAX_BODY_BYTES, on Bun and on Deno, over bare sockets: whatever their size and
 * framing, the app answers them (a 413 problem, or past the bound it takes in, a closed
 * connection), so every one is logged, counted and audited like any other refusal.
 *
 * Both runtimes answer `Expect: 100-continue` with 100 Continue themselves, before the app sees
 * the request (Bun's HTTP server as it routes the request, Deno's as it arrives), so the client
 * may get a 100 before the 413: what the app can promise, and what is checked here, is that the
 * 413 comes from the announced length alone, without a byte of the body.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { connect } from 'node:net'
import { eventually } from '../access/support.ts'
import { parseExposition, sampleValue } from '../support/exposition-parser.ts'
import { expectProblem } from '../support/http.ts'
import { type RawReply, rawRequest, streamedRequest } from '../support/raw-http.ts'
import { type RunningServer, type Runtime, startServer } from '../support/server.ts'

setDefaultTimeout(60_000)

const TOKEN = 'oversized-bodies-token-4d1f'
const MAX_BODY_BYTES = 65536
const MiB = 1024 * 1024
/** The README's bound on what of a refused body is taken in: max(2 x MAX_BODY_BYTES, 16 MiB). */
const TAKEN_IN_BYTES = 16 * MiB

/** An upload that, taken in whole, would be many times the bound. */
const ENDLESS = 256 * MiB

type Line = Record<string, unknown>

function expectRawProblem(reply: RawReply | undefined, status: number): void {
  if (!reply) throw new Error(`expected a ${status} problem, got no answer`)
  expectProblem({ ...reply, headers: new Headers(reply.headers) }, status)
}

describe.each(['bun', 'deno'] as Runtime[])('bodies over the limit on %s', (runtime) => {
  let server: RunningServer
  let sent = 0
  const headers = () => ({
    'content-type': 'application/json',
    authorization: `Bearer ${TOKEN}`,
    'x-request-id': `oversized-${runtime}-${++sent}`,
  })

  beforeAll(async () => {
    server = await startServer({ runtime, env: { API_TOKEN: TOKEN, MAX_BODY_BYTES: String(MAX_BODY_BYTES) } })
  })
  afterAll(async () => {
    await server?.stop()
  })

  const refusals413 = async () => {
    const scrape = parseExposition(await (await fetch(`${server.url}/metrics`)).text())
    return sampleValue(scrape, 'http_requests_total', { method: 'POST', route: '/configs', status: '413' }) ?? 0
  }

  /** The access line and the audit line of one request, by its id, once both are written. */
  const linesOf = (requestId: string) =>
    eventually(`the access and audit lines of ${requestId}`, () => {
      const lines = server.lines as Line[]
      const access = lines.find((l) => l.msg === 'request' && l.request_id === requestId)
      const audit = lines.find((l) => l.msg === 'audit' && l.requestId === requestId)
      return access && audit ? { access, audit } : undefined
    })

  it.each([
    ['2 MiB', 2 * MiB],
    ['64 MiB', 64 * MiB],
  ])(
    'when a body of %s is announced with Expect: 100-continue, then the 413 problem comes before a byte of it is sent',
    async (_, announced) => {
      const request = headers()
      const exchange = await streamedRequest(server.url, {
        method: 'POST',
        path: '/configs',
        headers: { ...request, expect: '100-continue' },
        contentLength: announced,
        bodyBytes: 0,
      })
      expectRawProblem(exchange.reply, 413)
      expect(exchange.reply?.json.detail).toContain(String(MAX_BODY_BYTES))
      expect(exchange.interim.every((status) => status === 100)).toBe(true)
      expect(exchange.bodyBytesWritten).toBe(0)
      const { access, audit } = await linesOf(request['x-request-id'])
      expect([access.status, audit.status, audit.action]).toEqual([413, 413, 'create'])
    },
  )

  it('when a body over the limit is announced without Expect, then the 413 comes only once all of it is in, so a client that writes first can read it', async () => {
    const request = headers()
    const announced = 2 * MiB
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(server.url).port) })
    let received = ''
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1')
    })
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    const head = Object.entries(request).map(([name, value]) => `${name}: ${value}\r\n`)
    const half = new Uint8Array(announced / 2).fill(0x20)
    await new Promise<void>((resolve) =>
      socket.write(
        `POST /configs HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${announced}\r\n${head.join('')}\r\n`,
        () => socket.write(half, () => resolve()),
      ),
    )
    // A request on another connection, answered after this one's head and first half arrived:
    // an answer the service sent while the body was still coming is here by now.
    await (await fetch(`${server.url}/livez`)).arrayBuffer()
    expect(received).toBe('')
    await new Promise<void>((resolve) => socket.end(half, () => resolve()))
    await closed
    expect(received).toStartWith('HTTP/1.1 413')
    const { access, audit } = await linesOf(request['x-request-id'])
    expect([access.status, audit.status]).toEqual([413, 413])
  })

  it('when a body past the bound taken in is written in full before reading, then its 413 is logged, counted and audited', async () => {
    const before = await refusals413()
    const request = headers()
    // Bun closes the connection after its 413 (the client may not get to read it); Deno takes
    // the rest in and answers. Either way the app answered.
    const reply = await rawRequest(server.url, {
      method: 'POST',
      path: '/configs',
      host: 'localhost',
      headers: request,
      body: new Uint8Array(TAKEN_IN_BYTES + 8 * MiB).fill(0x20),
    }).catch(() => undefined)
    if (reply) expectRawProblem(reply, 413)
    const { access, audit } = await linesOf(request['x-request-id'])
    expect([access.status, audit.status]).toEqual([413, 413])
    expect(await refusals413()).toBe(before + 1)
  })

  it('when a chunked body goes on past the bound taken in, then it is refused with 413, logged, counted and audited, and not taken in whole', async () => {
    const before = await refusals413()
    const request = headers()
    // A client that does not listen for an early answer and would send far more than the bound.
    const exchange = await streamedRequest(server.url, {
      method: 'POST',
      path: '/configs',
      headers: request,
      bodyBytes: ENDLESS,
      ignoreAnswer: true,
    })
    if (runtime === 'bun') {
      // The 413 says Connection: close, and Bun closes the connection once it is sent.
      expect(exchange.closed).toBe(true)
      expect(exchange.bodyBytesWritten).toBeLessThan(ENDLESS)
    } else {
      // Deno takes in the rest of any body, whatever the answer says; its sender reads the 413.
      expectRawProblem(exchange.reply, 413)
    }
    const { access, audit } = await linesOf(request['x-request-id'])
    expect([access.status, audit.status]).toEqual([413, 413])
    expect(await refusals413()).toBe(before + 1)
  })

  it('when a caller without a token announces a body past the bound, then it is refused with 401, audited, and not taken in whole', async () => {
    const { authorization: _, ...request } = headers()
    const exchange = await streamedRequest(server.url, {
      method: 'POST',
      path: '/configs',
      headers: request,
      contentLength: ENDLESS,
      bodyBytes: ENDLESS,
      ignoreAnswer: true,
    })
    if (runtime === 'bun') {
      expect(exchange.closed).toBe(true)
      expect(exchange.bodyBytesWritten).toBeLessThan(ENDLESS)
    } else {
      expectRawProblem(exchange.reply, 401)
    }
    const { access, audit } = await linesOf(request['x-request-id'])
    expect([access.status, audit.status, audit.actor]).toEqual([401, 401, 'anonymous'])
  })
})
