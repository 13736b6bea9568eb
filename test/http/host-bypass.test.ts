/**
 * Request lines that could make the access gate and the router read different requests, sent
 * over raw sockets to a real process (Bun, or Deno with TEST_RUNTIME=deno) with a tokens file and
 * ANONYMOUS_READ=false: a Host that is missing, empty or holds characters no host has, over
 * HTTP/1.0 and 1.1; paths whose first segments look like the open routes (/ui, /swagger,
 * /healthz, /metrics), with dot segments, doubled and percent-encoded slashes; every method. Each
 * is refused (400 before routing, 401/403 by the gate, or 404/405 when no route serves it),
 * nothing stored changes, and every write attempt the app saw leaves its audit line.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { RawRequest } from '../support/raw-http.ts'
import type { RunningServer } from '../support/server.ts'
import {
  type Attempt,
  auditLines,
  send,
  shown,
  snapshot,
  startGuardedService,
  TOKENS,
  unaudited,
} from './guarded-service.ts'

setDefaultTimeout(120_000)

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']
const VERSIONS = ['1.0', '1.1'] as const
/** undefined: no Host header at all. */
const ODD_HOSTS = [
  undefined,
  '',
  ' ',
  'x?',
  '"',
  '<',
  '>',
  '{',
  '}',
  '|',
  '\\',
  '^',
  'a b',
  'x/y',
  'x#y',
  'x@y',
  'x:port',
]
/** Paths that start like an open route, or are no plain path, but may reach a config route. */
const MISLEADING_PATHS = [
  '/a/ui/x/configs/datacenter-2',
  '/ui/../configs/datacenter-2',
  '/swaggerx/../configs/datacenter-2',
  '/swagger/../configs/datacenter-2',
  '/healthz/../configs/datacenter-2',
  '/metrics/../configs/datacenter-2',
  '//configs/datacenter-2',
  '/ui%2F..%2Fconfigs/datacenter-2',
  '/configs%2Fdatacenter-2',
  '/ui/%2e%2e/configs/datacenter-2',
  '/configs/./datacenter-2',
  '/configs/datacenter-2',
]

let server: RunningServer

beforeAll(async () => {
  server = await startGuardedService()
})
afterAll(async () => {
  await server?.stop()
})

/** A request with the writer's token when `token` says so, and a JSON body for the methods that take one. */
function request(method: string, path: string, host: string | undefined, version: '1.0' | '1.1', token?: string) {
  const sent: RawRequest = { method, path, host, version, headers: {} }
  if (token) sent.headers = { authorization: `Bearer ${token}` }
  if (['POST', 'PUT', 'PATCH'].includes(method)) {
    sent.headers = { ...sent.headers, 'content-type': 'application/json' }
    sent.body = JSON.stringify({ dcname: 'datacenter-2', metadata: { taken: true } })
  }
  return sent
}

async function sendAll(requests: RawRequest[]): Promise<Attempt[]> {
  const attempts: Attempt[] = []
  for (const sent of requests) attempts.push(await send(server, sent))
  return attempts
}

/** Whether the answer is this problem (an answer to HEAD has no body to tell). */
const is = (attempt: Attempt, problem: string) => attempt.problem === problem || attempt.sent.method === 'HEAD'

/** Requests answered otherwise than `allowed` says, one line each. */
const misanswered = (attempts: Attempt[], allowed: (attempt: Attempt) => boolean) =>
  attempts.filter((attempt) => !allowed(attempt)).map(shown)

describe('request lines that could mislead the gate', () => {
  it('when the Host is missing, empty or no host at all, then every method on every path is answered 400 before routing, nothing changes, and each write attempt is audited', async () => {
    const before = await snapshot(server)
    const requests = ODD_HOSTS.flatMap((host) =>
      VERSIONS.flatMap((version) =>
        METHODS.flatMap((method) =>
          ['/a/ui/x/configs/datacenter-2', '/configs/datacenter-2'].map((path) => request(method, path, host, version)),
        ),
      ),
    )
    const attempts = await sendAll(requests)
    // 400 from the app (a bad-request problem), or from the runtime itself, which never hands some on.
    expect(
      misanswered(attempts, (a) => a.status === 400 && (a.requestId === undefined || is(a, 'bad-request'))),
    ).toEqual([])
    expect(await snapshot(server)).toEqual(before)
    const lines = await auditLines(server)
    expect(unaudited(attempts, lines)).toEqual([])
    const refusedWrites = attempts.filter(
      (a) => a.requestId !== undefined && a.sent.method !== 'GET' && a.sent.method !== 'HEAD',
    )
    expect(refusedWrites.length).toBeGreaterThan(0)
    for (const attempt of refusedWrites) {
      expect(lines.find((line) => line.requestId === attempt.requestId)).toMatchObject({
        action: null,
        dcname: null,
        status: 400,
        actor: 'anonymous',
      })
    }
  })

  it('when an anonymous path only looks like an open route, then every method is refused (401, or 404/405 when no route serves it), nothing changes, and each write attempt is audited', async () => {
    const before = await snapshot(server)
    const requests = MISLEADING_PATHS.flatMap((path) =>
      VERSIONS.flatMap((version) => METHODS.map((method) => request(method, path, 'localhost', version))),
    )
    const attempts = await sendAll(requests)
    expect(misanswered(attempts, (a) => [401, 404, 405].includes(a.status) && a.requestId !== undefined)).toEqual([])
    // The open routes never took one of these.
    expect(misanswered(attempts, (a) => a.status !== 404 || is(a, 'no-route'))).toEqual([])
    expect(await snapshot(server)).toEqual(before)
    expect(unaudited(attempts, await auditLines(server))).toEqual([])
  })

  it('when a writer scoped to team-a- names a config outside its prefixes through an odd Host or a misleading path, then it is refused and nothing changes', async () => {
    const before = await snapshot(server)
    const paths = [
      ...MISLEADING_PATHS,
      '/configs/team-b-1',
      '/configs/team-a-1%2F..%2Fdatacenter-2',
      '/configs/datacenter-2/rollback',
    ]
    const requests = [
      ...['x?', '"', '{', '|', '^', ''].flatMap((host) =>
        METHODS.map((method) => request(method, '/configs/datacenter-2', host, '1.1', TOKENS.writer)),
      ),
      ...paths.flatMap((path) => METHODS.map((method) => request(method, path, 'localhost', '1.1', TOKENS.writer))),
      // A create whose body names a config outside the prefixes (the writer may list /configs).
      request('POST', '/configs', 'localhost', '1.1', TOKENS.writer),
    ]
    const attempts = await sendAll(requests)
    expect(misanswered(attempts, (a) => [400, 403, 404, 405].includes(a.status))).toEqual([])
    expect(await snapshot(server)).toEqual(before)
    expect(unaudited(attempts, await auditLines(server))).toEqual([])
  })
})
