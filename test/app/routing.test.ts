/**
 * The router's match labels a routed request's metrics and access line; for a path no route
 * serves with the method asked for, the route matcher (src/http/route-matcher.ts) decides
 * between 404 and 405 and labels the 405, and it matches as the router serves: one trailing
 * slash is the same path, whatever the method.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { inProcessService } from '../observability/in-process.ts'

type Service = Awaited<ReturnType<typeof inProcessService>>

const CONFIG_METHODS = 'DELETE, GET, HEAD, PATCH, PUT'

/** [method, path, status, route label, Allow of a 405 (null when none)]. */
const TABLE: [string, string, number, string, string | null][] = [
  ['GET', '/configs', 200, '/configs', null],
  // Elysia's router serves a path with one trailing slash as the path without it.
  ['GET', '/configs/', 200, '/configs', null],
  ['HEAD', '/configs/', 200, '/configs', null],
  ['GET', '/configs/datacenter-1/', 200, '/configs/:dcname', null],
  ['HEAD', '/configs/datacenter-1', 200, '/configs/:dcname', null],
  ['GET', '/healthz/', 200, '/healthz', null],
  ['PUT', '/configs', 405, '/configs', 'GET, HEAD, POST'],
  ['PUT', '/configs/', 405, '/configs', 'GET, HEAD, POST'],
  ['POST', '/configs/datacenter-1', 405, '/configs/:dcname', CONFIG_METHODS],
  ['POST', '/configs/datacenter-1/', 405, '/configs/:dcname', CONFIG_METHODS],
  ['OPTIONS', '/search/', 405, '/search', 'GET, HEAD'],
  ['DELETE', '/healthz/', 405, '/healthz', 'GET, HEAD'],
  // Two slashes, an empty segment, more segments or another case: no route.
  ['GET', '/configs//', 404, 'unmatched', null],
  ['GET', '//configs', 404, 'unmatched', null],
  ['GET', '/configs/a/b', 404, 'unmatched', null],
  ['GET', '/Configs', 404, 'unmatched', null],
  ['HEAD', '/nowhere', 404, 'unmatched', null],
  ['GET', '/nowhere/', 404, 'unmatched', null],
  ['PUT', '/nowhere/', 404, 'unmatched', null],
]

let service: Service

beforeAll(async () => {
  service = await inProcessService({ LOG_LEVEL: 'info' })
})
afterAll(async () => {
  await service?.close()
})

async function send(method: string, path: string) {
  const before = service.accessLines().length
  const response = await service.request(path, { method })
  const text = await response.text()
  // An answer to HEAD has no body when a GET route took it: its label tells the route then.
  const problem = text === '' ? undefined : (JSON.parse(text) as { type?: string })
  const line = service.accessLines().slice(before).at(-1)
  return {
    status: response.status,
    allow: response.headers.get('allow') ?? undefined,
    noRoute: problem?.type === 'urn:config-service:problem:no-route',
    route: line?.route,
  }
}

describe('routing: answers and route labels', () => {
  it.each(TABLE)(
    'when %s %s is asked for, then it answers %i and is labelled %s',
    async (method, path, status, route, allow) => {
      const answer = await send(method, path)
      expect(answer).toEqual({ status, allow: allow ?? undefined, noRoute: status === 404, route })
    },
  )

  it('when a path is a 405, then each method its Allow names is served there (neither 404 nor 405), under the same label', async () => {
    for (const [method, path, status, route] of TABLE) {
      if (status !== 405) continue
      // A config that does not exist, so that the writes change nothing.
      const probe = path.replace('datacenter-1', 'no-such-config')
      const { allow } = await send(method, probe)
      for (const allowed of (allow ?? '').split(', ')) {
        const answer = await send(allowed, probe)
        expect({ allowed, probe, route: answer.route, noRoute: answer.noRoute, is405: answer.status === 405 }).toEqual({
          allowed,
          probe,
          route,
          noRoute: false,
          is405: false,
        })
      }
    }
  })
})
