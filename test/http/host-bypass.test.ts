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
  type Line,
  send,
  shown,
  snapshot,
  startGuardedService,
  TOKENS,
  unaudited,
  WRITE_METHODS,
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

const CONFIG_ROUTES = new Set(['/configs', '/configs/:dcname', '/configs/:dcname/history', '/configs/:dcname/rollback'])

/** The access line of a request that reached the app. */
const accessLine = (attempt: Attempt) =>
  server.lines.find((line) => (line as Line).msg === 'request' && (line as Line).request_id === attempt.requestId) as
    | Line
    | undefined

/** Whether the answer is this problem (an answer to HEAD has no body to tell). */
const is = (attempt: Attempt, problem: string) => attempt.problem === problem || attempt.sent.method === 'HEAD'

/** Requests answered otherwise than `allowed` says, one line each. */
const misanswered = (attempts: Attempt[], allowed: (attempt: Attempt) => boolean) =>
  attempts.filter((attempt) => !allowed(attempt)).map(shown)

/**
 * Sends `requests` once, before the group's tests, and keeps what the store held before and
 * after and the audit lines written meanwhile.
 */
function sentOnce(requests: () => RawRequest[]) {
  const run = {} as {
    attempts: Attempt[]
    before: Awaited<ReturnType<typeof snapshot>>
    after: Awaited<ReturnType<typeof snapshot>>
    audit: Line[]
  }
  beforeAll(async () => {
    run.before = await snapshot(server)
    run.attempts = await sendAll(requests())
    run.after = await snapshot(server)
    run.audit = await auditLines(server)
  })
  return run
}

describe('a Host that is missing, empty or no host at all, on HTTP/1.0 and 1.1', () => {
  const run = sentOnce(() =>
    ODD_HOSTS.flatMap((host) =>
      VERSIONS.flatMap((version) =>
        METHODS.flatMap((method) =>
          ['/a/ui/x/configs/datacenter-2', '/configs/datacenter-2'].map((path) => request(method, path, host, version)),
        ),
      ),
    ),
  )

  it('when sent with any method, then it is answered 400 before routing and nothing stored changes', () => {
    // 400 from the app (a bad-request problem), or from the runtime itself, which never hands some on.
    expect(
      misanswered(run.attempts, (a) => a.status === 400 && (a.requestId === undefined || is(a, 'bad-request'))),
    ).toEqual([])
    expect(run.after).toEqual(run.before)
  })

  it('when a write is refused before routing, then its audit line names no action and no config', () => {
    expect(unaudited(run.attempts, run.audit)).toEqual([])
    const writes = run.attempts.filter((a) => a.requestId !== undefined && WRITE_METHODS.has(a.sent.method))
    expect(writes.length).toBeGreaterThan(0)
    const lines = writes.map((a) => run.audit.find((line) => line.requestId === a.requestId))
    const expected = { action: null, dcname: null, status: 400, actor: 'anonymous' }
    expect(lines).toEqual(lines.map(() => expect.objectContaining(expected)))
  })

  it('when it reached the app, then its access line is written under the route label of unmatched requests', () => {
    const reached = run.attempts.filter((a) => a.requestId !== undefined)
    expect(reached.map((a) => [accessLine(a)?.status, accessLine(a)?.route])).toEqual(
      reached.map(() => [400, 'unmatched']),
    )
  })
})

describe('an anonymous path that only looks like an open route', () => {
  const run = sentOnce(() =>
    MISLEADING_PATHS.flatMap((path) =>
      VERSIONS.flatMap((version) => METHODS.map((method) => request(method, path, 'localhost', version))),
    ),
  )

  it('when sent with any method, then it is refused with 401 on the route the router matched, or 404/405 when no route serves it, and nothing stored changes', () => {
    expect(misanswered(run.attempts, (a) => [401, 404, 405].includes(a.status) && a.requestId !== undefined)).toEqual(
      [],
    )
    // The gate refused what the router routed: a 401 is labelled with a config route; a 404 is no open route's.
    expect(
      misanswered(run.attempts, (a) =>
        a.status === 401 ? CONFIG_ROUTES.has(String(accessLine(a)?.route)) : a.status !== 404 || is(a, 'no-route'),
      ),
    ).toEqual([])
    expect(run.after).toEqual(run.before)
  })

  it('when a write attempt was routed, then it left exactly one audit line', () => {
    expect(unaudited(run.attempts, run.audit)).toEqual([])
  })
})

describe('a writer scoped to team-a- naming a config outside its prefixes', () => {
  const paths = [
    ...MISLEADING_PATHS,
    '/configs/team-b-1',
    '/configs/team-a-1%2F..%2Fdatacenter-2',
    '/configs/datacenter-2/rollback',
  ]
  const run = sentOnce(() => [
    ...['x?', '"', '{', '|', '^', ''].flatMap((host) =>
      METHODS.map((method) => request(method, '/configs/datacenter-2', host, '1.1', TOKENS.writer)),
    ),
    ...paths.flatMap((path) => METHODS.map((method) => request(method, path, 'localhost', '1.1', TOKENS.writer))),
    // A create whose body names a config outside the prefixes (the writer may list /configs).
    request('POST', '/configs', 'localhost', '1.1', TOKENS.writer),
  ])

  it('when it comes through an odd Host or a misleading path, then it is refused and nothing stored changes', () => {
    expect(misanswered(run.attempts, (a) => [400, 403, 404, 405].includes(a.status))).toEqual([])
    expect(run.after).toEqual(run.before)
  })

  it('when a write attempt was routed, then it left exactly one audit line', () => {
    expect(unaudited(run.attempts, run.audit)).toEqual([])
  })
})
