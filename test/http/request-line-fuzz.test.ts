/**
 * A seeded request-line fuzzer against a real process (Bun, or Deno with TEST_RUNTIME=deno)
 * guarded by a tokens file with ANONYMOUS_READ=false: 300 requests whose method, target (open
 * routes' prefixes, dot segments, doubled and percent-encoded slashes, absolute form, queries
 * and fragments), Host and HTTP version are mutated at random, sent by an anonymous caller, a
 * reader and a writer limited to `team-a-`. Whatever the router matched, the gate judged the
 * same route: no write by the anonymous caller or the reader succeeds, an anonymous request the
 * router gave to a config route is a 401, the writer changes nothing outside its prefixes and
 * every change it made is one of its successful writes, and every write attempt the app saw
 * left its audit line.
 *
 * The seed is printed; FUZZ_SEED=<seed> repeats a run.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import type { RawRequest } from '../support/raw-http.ts'
import type { RunningServer } from '../support/server.ts'
import {
  type Attempt,
  auditLines,
  CONFIGS,
  type Line,
  MARKER,
  send,
  shown,
  snapshot,
  startGuardedService,
  TOKENS,
  unaudited,
  WRITE_METHODS,
  WRITER_PREFIX,
} from './guarded-service.ts'

setDefaultTimeout(180_000)

const REQUESTS = 300
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
console.log(`request-line fuzzer: seed ${SEED} (FUZZ_SEED=${SEED} repeats this run)`)

/** mulberry32: a small seeded generator, so that a seed repeats its run exactly. */
function generator(seed: number) {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
  return { next, pick }
}

type Caller = 'anonymous' | 'reader' | 'writer'
const CALLER_TOKENS: Record<Caller, string | undefined> = {
  anonymous: undefined,
  reader: TOKENS.reader,
  writer: TOKENS.writer,
}
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
/** Names inside and outside the writer's prefixes; the last two are no valid dcname. */
const NAMES = [
  'datacenter-2',
  'team-b-1',
  'team-a-1',
  'team-a-new',
  'team-ab',
  'TEAM-a-1',
  'team-a-1%2F..%2Fdatacenter-2',
]
/** Names a write could have touched (the valid ones). */
const WRITABLE = [...new Set([...CONFIGS, 'team-a-new', 'team-ab', 'TEAM-a-1'])]
const TEMPLATES = [
  '/configs',
  '/configs/{d}',
  '/configs/{d}',
  '/configs/{d}/history',
  '/configs/{d}/rollback',
  '/search?dcname={d}',
  '/ui/configs/{d}',
  '/healthz',
  '/metrics',
  '/swagger/json',
]
const PREFIXES = ['/ui', '/swagger', '/swaggerx', '/healthz', '/metrics', '/a/ui/x', '/ui/..', '/', '/ui/%2e%2e']
const ODD_HOSTS = [undefined, '', 'x?', '"', '<', '{', '|', '\\', '^', 'x/y', 'x#y', 'a b', 'evil:99999']
const CONFIG_ROUTES = new Set([
  '/configs',
  '/configs/:dcname',
  '/configs/:dcname/history',
  '/configs/:dcname/rollback',
  '/search',
])

interface Sent {
  caller: Caller
  attempt: Attempt
}

/** A short segment of letters. */
function segment(random: ReturnType<typeof generator>, most: number): string {
  const length = 1 + Math.floor(random.next() * most)
  return Array.from({ length }, () => random.pick([...'abcxyz'])).join('')
}

function mutatedTarget(random: ReturnType<typeof generator>, plain: boolean): string {
  const { next, pick } = random
  let path = pick(TEMPLATES).replace('{d}', pick(NAMES))
  // Half the targets are disguised below; they take at most one other mutation, so that the
  // disguise stays in front of a path a route serves.
  const disguised = !plain && next() < 0.5
  const mutations = Math.floor(next() * (disguised ? 2 : 3))
  for (let i = 0; i < mutations; i++) {
    const mutation = pick([
      () => `${pick(PREFIXES)}${path}`,
      () => path.replace('/', '/../'),
      () => path.replace(/\/(?=[^/]*$)/, '%2F'),
      () => path.replace('/', '//'),
      () => path.replace(/\/(?=[^/]*$)/, '/./'),
      () => `${path}/`,
      () => `${path}${path.includes('?') ? '&' : '?'}x=1`,
      () => `${path}#fragment`,
      () => path.toUpperCase(),
      () => `${path}/../configs/${pick(NAMES)}`,
      () => path.replace('.', '%2e'),
      () => `http://${pick(['evil', 'localhost', 'x'])}${path}`,
    ])
    path = mutation()
  }
  // An open route's name behind a first segment, and maybe before a segment of its own
  // (`/q/ui/ab/configs/...`): where one reader of the URL skips a segment, another may not.
  if (disguised) {
    const open = pick(['/ui', '/swagger', '/healthz', '/metrics'])
    path = `/${segment(random, 3)}${open}${pick(['', '/', `/${segment(random, 4)}`])}${path}`
  }
  return path
}

/**
 * `plain`: an anonymous request with a usable Host and no disguise, whose target the router
 * routes more often than not: every run has some to check the gate's judgement of a route against.
 */
function mutatedRequest(
  random: ReturnType<typeof generator>,
  port: number,
  plain: boolean,
): { caller: Caller; sent: RawRequest } {
  const { next, pick } = random
  const path = mutatedTarget(random, plain)
  const usableHost = plain || next() < 0.5
  const host = usableHost ? pick(['localhost', '127.0.0.1', `localhost:${port}`, 'team-a-1']) : pick(ODD_HOSTS)
  const method = pick(METHODS)
  const caller = plain ? 'anonymous' : pick(['anonymous', 'reader', 'writer'] as const)
  const token = CALLER_TOKENS[caller]
  const sent: RawRequest = { method, path, host, version: next() < 0.3 ? '1.0' : '1.1', headers: {} }
  if (token) sent.headers = { authorization: `Bearer ${token}` }
  if (['POST', 'PUT', 'PATCH'].includes(method)) {
    const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
    sent.headers = { ...sent.headers, 'content-type': type }
    sent.body = JSON.stringify(
      path.includes('rollback')
        ? { revision: 1 }
        : { dcname: pick(NAMES), metadata: { fuzz: Math.floor(next() * 1e6) } },
    )
  }
  return { caller, sent }
}

let server: RunningServer
const sent: Sent[] = []
let before: Awaited<ReturnType<typeof snapshot>>
let lines: Line[]

beforeAll(async () => {
  server = await startGuardedService()
  before = await snapshot(server)
  const random = generator(SEED)
  for (let i = 0; i < REQUESTS; i++) {
    const { caller, sent: request } = mutatedRequest(random, server.port, i % 10 === 0)
    sent.push({ caller, attempt: await send(server, request) })
  }
  lines = await auditLines(server)
})
afterAll(async () => {
  await server?.stop()
})

const isWrite = ({ attempt }: Sent) => WRITE_METHODS.has(attempt.sent.method)
const succeeded = ({ attempt }: Sent) => attempt.status >= 200 && attempt.status < 300
const failures = (list: Sent[]) => list.map(({ caller, attempt }) => `${caller}: ${shown(attempt)}`)

/** The route its access line names: the one the router matched (or, for a 405, the one its path matched). */
function routeOf({ attempt }: Sent): unknown {
  const access = server.lines.find(
    (line) => (line as Line).msg === 'request' && (line as Line).request_id === attempt.requestId,
  ) as Line | undefined
  return access?.route
}

async function historyOf(dcname: string): Promise<Line[]> {
  const response = await fetch(`${server.url}/configs/${dcname}/history?limit=1000`, {
    headers: { authorization: `Bearer ${TOKENS.admin}` },
  })
  return response.status === 200 ? ((await response.json()) as Line[]) : []
}

describe(`the request-line fuzzer, seed ${SEED}`, () => {
  it('when the anonymous caller or the reader tries a write, then none succeeds', () => {
    const wrong = sent.filter((s) => s.caller !== 'writer' && isWrite(s) && succeeded(s))
    expect(failures(wrong)).toEqual([])
  })

  it('when the router gave an anonymous request to a config route, then the gate refused that same request with 401', () => {
    // A 405 is labelled with the route its path matched, but no route served it.
    const judged = sent.filter(
      (s) =>
        s.caller === 'anonymous' &&
        s.attempt.requestId !== undefined &&
        s.attempt.status !== 405 &&
        CONFIG_ROUTES.has(String(routeOf(s))),
    )
    expect(judged.length).toBeGreaterThan(0)
    expect(failures(judged.filter((s) => s.attempt.status !== 401))).toEqual([])
  })

  it('when the anonymous caller or the reader is refused, then by the gate or before routing, never by a handler that ran', () => {
    // What only a route's validation or handler answers (validation, not-found, conflict, ...)
    // means the request got past the gate.
    const refusedBy = (s: Sent) =>
      s.caller === 'anonymous'
        ? ['bad-request', 'unauthorized', 'no-route', 'method-not-allowed']
        : ['bad-request', 'forbidden', 'no-route', 'method-not-allowed']
    const judged = sent.filter(
      (s) => (s.caller === 'anonymous' || (s.caller === 'reader' && isWrite(s))) && s.attempt.problem,
    )
    expect(failures(judged.filter((s) => !refusedBy(s).includes(s.attempt.problem as string)))).toEqual([])
  })

  it('when the anonymous caller is answered, then no answer carries a stored config', () => {
    const leaked = sent.filter((s) => s.caller === 'anonymous' && s.attempt.text.includes(MARKER))
    expect(failures(leaked)).toEqual([])
  })

  it("when the scoped writer's write names a config outside its prefixes, then it did not succeed", () => {
    const outside = sent.filter((s) => {
      const line = lines.find((l) => l.requestId === s.attempt.requestId)
      return s.caller === 'writer' && typeof line?.dcname === 'string' && !line.dcname.startsWith(WRITER_PREFIX)
    })
    expect(failures(outside.filter(succeeded))).toEqual([])
  })

  it("when the run is over, then the configs outside the prefixes are unchanged and every change is one of the writer's successful writes", async () => {
    const after = await snapshot(server)
    const outside = (s: typeof before) =>
      s.list.body.filter((config: Line) => !String(config.dcname).startsWith(WRITER_PREFIX))
    expect(outside(after)).toEqual(outside(before))
    const writes = sent.filter((s) => isWrite(s) && succeeded(s))
    const changes = (await Promise.all(WRITABLE.map(historyOf)))
      .flat()
      .filter((entry) => Number(entry.revision) > Number(before.list.revision))
    expect(changes.map((entry) => entry.requestId).sort()).toEqual(writes.map((s) => s.attempt.requestId).sort())
    for (const entry of changes) {
      expect([entry.actor, String((entry.config as Line).dcname).startsWith(WRITER_PREFIX)]).toEqual([
        'team-a-writer',
        true,
      ])
    }
    expect(Number(after.list.revision) - Number(before.list.revision)).toBe(writes.length)
  })

  it('when a write attempt reached the app, then it left exactly one audit line', () => {
    expect(
      unaudited(
        sent.map((s) => s.attempt),
        lines,
      ),
    ).toEqual([])
  })
})
